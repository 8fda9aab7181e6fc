"""`gradmem serve`: an OpenAI-compatible HTTP server over a local GradMem engine with per-session memory.

Needs the ``server`` extra (``pip install 'gradmem-agent[server]'``: FastAPI and uvicorn).

Endpoints: ``POST /v1/chat/completions`` (JSON or, with ``"stream": true``, server-sent events) and
``GET /v1/models``. A request names its session with the ``X-Session-Id`` header or, failing that, the
request's ``user`` field; without either the server is a stateless chat model. With a session, the messages a
client sends are matched against the session's stored transcript: a client may send only the new message, or
the whole conversation as chat front-ends do, and only what is not stored yet is added. Old turns are written
into memory blocks by each session's background worker between requests, and read back as a soft prompt. The
sessions live in the same SQL store as the CLI's (``--db``), so a restart keeps them.

A request the server refuses gets a 4xx JSON body ``{"error": {"message", "type", "param", "code"}}`` and
stores nothing. A streamed reply whose client goes away stops decoding at the next token and stores nothing of
that turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

try:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, StreamingResponse
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("gradmem serve needs FastAPI and uvicorn: pip install 'gradmem-agent[server]'") from exc

from gradmem_agent.storage import Message, SQLStore, StorageError, default_url
from gradmem_agent.storage.validation import check_session_id

from gradmem_agent.conversation import GradMemConversationMemory
from gradmem_agent.engine import GradMem
from gradmem_agent.read import SamplingConfig

from . import decoding
from .chat_model import check_memory_options, engine_lock
from .openai_api import (
    SESSION_HEADER,
    ApiError,
    ChatRequest,
    chunk,
    completion,
    completion_id,
    openai_tool_calls,
    parse_request,
    to_records,
)
from .tools import (
    TOOL_CLOSE,
    ToolStream,
    call_prefix,
    forced_calls,
    parse_tool_calls,
    resolve_tool_choice,
    tools_prompt,
)


@dataclass
class Turn:
    """One checked request: what to store before reading, the question, and how to decode."""

    request: ChatRequest
    session_id: str | None
    system: str | None
    earlier: list[Message]  # new messages before the question (stored first)
    question: str | None  # the last new message, when it is the user's
    history: list[Message]  # stateless: the whole conversation
    sampling: SamplingConfig
    names: list[str]
    forced: str | None
    tools: list[dict] = field(default_factory=list)


@dataclass
class Reply:
    text: str
    calls: list[dict]
    usage: dict[str, int]
    finish: str


def _overlap(stored: list[Message], sent: list[Message]) -> int:
    """How many of the sent messages are the stored transcript's last ones (the longest such run)."""
    key = [(m.role, m.content.strip()) for m in stored]
    new = [(m.role, m.content.strip()) for m in sent]
    for k in range(min(len(key), len(new)), 0, -1):
        if key[len(key) - k:] == new[:k]:
            return k
    return 0


class GradMemServer:
    """The state behind the app: one engine, one store, the open sessions.

    Args:
        engine: the GradMem that answers and writes memory.
        url: SQLAlchemy URL of the store (None: storage.default_url(), the CLI's default); or `store`.
        store: an open SQLStore (not closed by close()).
        api_key: when set, every request must send ``Authorization: Bearer <api_key>``.
        model_name: the model id served (None: the engine's name); requests may also name "gradmem".
        max_tokens: the reply length when a request sets none.
        memory_options: GradMemConversationMemory keyword arguments for the sessions (MemoryPolicy fields such
            as recent_tokens; mode defaults to "background": compression runs between requests).
    """

    def __init__(self, engine: GradMem, *, url: str | None = None, store: SQLStore | None = None,
                 api_key: str | None = None, model_name: str | None = None, max_tokens: int = 256,
                 memory_options: dict[str, Any] | None = None) -> None:
        if url is not None and store is not None:
            raise ValueError("pass url or store, not both")
        if api_key is not None and not api_key:
            raise ValueError("api_key must not be empty (None: no authentication)")
        SamplingConfig(max_new_tokens=max_tokens)
        self.engine = engine
        self.store = store if store is not None else SQLStore(url or default_url())
        self._owns_store = store is None
        self.api_key = api_key
        self.model_name = model_name or engine.name
        self.max_tokens = max_tokens
        self.memory_options = {"mode": "background", **(memory_options or {})}
        check_memory_options(self.memory_options)
        self._sessions: dict[str, GradMemConversationMemory] = {}
        self._session_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    @property
    def model_ids(self) -> tuple[str, ...]:
        return (self.model_name, "gradmem")

    def session(self, session_id: str) -> tuple[GradMemConversationMemory, threading.Lock]:
        with self._lock:
            conv = self._sessions.get(session_id)
            if conv is None:
                conv = GradMemConversationMemory(session_id, self.engine, store=self.store, **self.memory_options)
                self._sessions[session_id] = conv
                self._session_locks[session_id] = threading.Lock()
            return conv, self._session_locks[session_id]

    # requests -------------------------------------------------------------------------------------
    def authorize(self, header: str | None) -> None:
        if self.api_key is None:
            return
        given = header[7:] if header and header.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(given.encode(), self.api_key.encode()):
            raise ApiError(401, "invalid or missing API key (send Authorization: Bearer <key>)",
                           kind="authentication_error", code="invalid_api_key")

    def plan(self, body: Any, session_header: str | None) -> Turn:
        """Check a request and find what is new in it; ApiError (nothing stored) if it is refused."""
        request = parse_request(body)
        if request.model not in self.model_ids:
            raise ApiError(404, f"model {request.model!r} is not served here; use one of {list(self.model_ids)}",
                           param="model", code="model_not_found")
        session_id = session_header if session_header is not None else request.user
        if session_id is not None:
            try:
                session_id = check_session_id(session_id)
            except (TypeError, ValueError) as exc:
                raise ApiError(400, f"bad session id: {exc}", param=SESSION_HEADER) from None
        system, records = to_records(request.messages)
        tools = [] if request.tool_choice == "none" else list(request.tools or [])
        names = [t["function"]["name"] for t in tools]
        try:
            forced = resolve_tool_choice(request.tool_choice, names) if tools else None
            sampling = request.sampling(self.max_tokens)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, str(exc), param="tool_choice") from None
        new = records
        if session_id is not None:
            stored = self.store.messages(session_id) if self.store.session(session_id) is not None else []
            new = records[_overlap(stored, records):]
            if not new:
                raise ApiError(400, "every message sent is already stored in this session: send a new one",
                               param="messages")
        if new[-1].role not in ("user", "tool"):
            raise ApiError(400, "the last message must be the user's or a tool result", param="messages")
        question = new[-1].content if new[-1].role == "user" else None
        earlier = new[:-1] if question is not None else new
        return Turn(request, session_id, system, earlier, question, records, sampling, names, forced, tools)

    def _turns(self, turn: Turn) -> tuple[list[dict[str, str]], list, GradMemConversationMemory | None]:
        """The chat turns and memory to read (storing the new messages before the question first)."""
        if turn.session_id is None:
            turns, memory, conv = [m.turn() for m in turn.history], [], None
        else:
            conv, _ = self.session(turn.session_id)
            if turn.earlier:
                conv.add_messages(turn.earlier)
            ctx = conv.read_context(turn.question, reply_tokens=turn.sampling.max_new_tokens)
            turns, memory = list(ctx.messages), ctx.memory
        # The session's own system prompt, if it has one, comes before the request's.
        own = turns.pop(0)["content"] if turns and turns[0]["role"] == "system" else None
        system = "\n\n".join(filter(None, [own, turn.system, tools_prompt(turn.tools) if turn.tools else None]))
        if system:
            turns.insert(0, {"role": "system", "content": system})
        return turns, memory, conv

    def run(self, turn: Turn, emit: Callable[[str], None] | None = None,
            cancel: threading.Event | None = None) -> Reply | None:
        """Answer a planned turn (in a worker thread). emit(text) receives streamable text as it is decoded.
        Returns None, storing nothing of the turn, if `cancel` was set before the reply was complete."""
        lock = self.session(turn.session_id)[1] if turn.session_id is not None else contextlib.nullcontext()
        with lock:
            turns, memory, conv = self._turns(turn)
            prefix = call_prefix(turn.forced)
            splitter = ToolStream(turn.names) if turn.names and not turn.forced else None
            reading = conv._reading() if conv is not None else contextlib.nullcontext()
            text = ""
            with engine_lock(self.engine), reading:
                for piece in decoding.stream(self.engine, turns, memory or None, turn.sampling, prefix, cancel,
                                             [TOOL_CLOSE] if turn.forced else ()):
                    text += piece
                    if any(s and s in text for s in turn.request.stops):
                        text = text[: min(text.index(s) for s in turn.request.stops if s and s in text)]
                        break
                    out = "" if turn.forced else splitter.feed(piece) if splitter is not None else piece
                    if out and emit is not None:
                        emit(out)
            if cancel is not None and cancel.is_set():
                return None
            if turn.forced:
                content, calls = forced_calls(text, turn.forced, turn.names)
            elif splitter is not None:
                parsed, calls = parse_tool_calls(text, turn.names)
                held, _ = splitter.finish()
                if emit is not None and held and not calls:
                    emit(held)
                content = parsed if calls else text.strip()
            else:
                content, calls = text.strip(), []
            reply = self._reply(turns, memory, text, content, calls, turn.sampling)
            if conv is not None:
                stored = [Message("user", turn.question)] if turn.question is not None else []
                stored.append(Message("assistant", content or ("" if calls else "(empty)"),
                                      tool_calls=[{"name": c["name"], "args": c["args"], "id": c["id"]}
                                                  for c in calls] or None))
                conv.add_messages(stored)
            return reply

    def _reply(self, turns: list[dict], memory: list, text: str, content: str, calls: list[dict],
               sampling: SamplingConfig) -> Reply:
        from gradmem_agent.read import prompt_ids

        prompt = len(prompt_ids(self.engine.tokenizer, turns)) + sum(int(m.shape[0]) for m in memory)
        out = self.engine.count_tokens(text) if text else 0
        finish = "tool_calls" if calls else "length" if out >= sampling.max_new_tokens else "stop"
        return Reply(content, calls, {"prompt_tokens": prompt, "completion_tokens": out,
                                      "total_tokens": prompt + out}, finish)

    # lifecycle ------------------------------------------------------------------------------------
    def close(self) -> None:
        """Finish background compression, stop the sessions' workers, close the store if this server made it."""
        with self._lock:
            convs, self._sessions = list(self._sessions.values()), {}
        for conv in convs:
            conv.close()
        if self._owns_store:
            self.store.close()


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status)


def create_app(server: GradMemServer) -> FastAPI:
    """The FastAPI app of `server` (closed when the app shuts down)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(server.close)

    app = FastAPI(title="gradmem", lifespan=lifespan)
    app.state.gradmem = server

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc)

    @app.get("/v1/models")
    async def models(request: Request) -> dict[str, Any]:
        server.authorize(request.headers.get("authorization"))
        return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "gradmem"}
                                           for name in server.model_ids]}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        server.authorize(request.headers.get("authorization"))
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "the request body is not JSON") from None
        turn = await asyncio.to_thread(server.plan, body, request.headers.get(SESSION_HEADER))
        cid, model = completion_id(), turn.request.model
        if not turn.request.stream:
            try:
                reply = await asyncio.to_thread(server.run, turn)
            except (StorageError, ValueError) as exc:
                raise ApiError(500 if isinstance(exc, StorageError) else 400, str(exc), kind="server_error"
                               if isinstance(exc, StorageError) else "invalid_request_error") from None
            assert reply is not None
            return JSONResponse(completion(cid, model, reply.text, reply.calls, reply.usage, reply.finish))
        return StreamingResponse(_events(server, turn, cid, model), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    return app


async def _events(server: GradMemServer, turn: Turn, cid: str, model: str) -> AsyncIterator[str]:
    """SSE chunks: role, text deltas as decoded, tool calls, finish reason, usage if asked, [DONE]."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    cancel = threading.Event()

    def work() -> None:
        try:
            reply = server.run(turn, lambda text: loop.call_soon_threadsafe(queue.put_nowait, ("text", text)), cancel)
            loop.call_soon_threadsafe(queue.put_nowait, ("done", reply))
        except Exception as exc:  # reported to the client as an error event
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))

    worker = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        yield chunk(cid, model, {"role": "assistant", "content": ""})
        while True:
            kind, value = await queue.get()
            if kind == "text":
                yield chunk(cid, model, {"content": value})
            elif kind == "error":
                yield f"data: {json.dumps(ApiError(500, str(value), kind='server_error').body())}\n\n"
                break
            else:
                reply: Reply = value
                if reply.calls:
                    calls = [{"index": i, **c} for i, c in enumerate(openai_tool_calls(reply.calls))]
                    yield chunk(cid, model, {"tool_calls": calls})
                yield chunk(cid, model, {}, reply.finish)
                if (turn.request.stream_options or {}).get("include_usage"):
                    yield chunk(cid, model, {}, usage=reply.usage)
                break
        yield "data: [DONE]\n\n"
    finally:
        cancel.set()  # a client that went away: stop decoding, store nothing of this turn
        await asyncio.shield(worker)


def serve(server: GradMemServer, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(server), host=host, port=port, log_level=log_level)


class ServerThread:
    """A GradMemServer served by uvicorn on a thread of this process (tests, examples, benchmarks), on a free
    port of `host` unless one is given; started on construction, stopped by stop() or on leaving a `with`.

    Stopping shuts the app down as `gradmem serve` does: background compression finishes, the store closes."""

    def __init__(self, server: GradMemServer, *, host: str = "127.0.0.1", port: int = 0,
                 start_timeout_s: float = 30.0) -> None:
        import socket
        import time

        import uvicorn

        if not port:
            with socket.socket() as s:
                s.bind((host, 0))
                port = s.getsockname()[1]
        self.server, self.host, self.port = server, host, port
        self.uvicorn = uvicorn.Server(uvicorn.Config(create_app(server), host=host, port=port,
                                                     log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.uvicorn.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + start_timeout_s
        while not self.uvicorn.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.stop()
                raise RuntimeError(f"the server did not start on {host}:{port}")
            time.sleep(0.05)

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as base_url."""
        return f"http://{self.host}:{self.port}/v1"

    def stop(self, timeout_s: float = 60.0) -> None:
        self.uvicorn.should_exit = True
        self.thread.join(timeout_s)

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
