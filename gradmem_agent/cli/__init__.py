"""`gradmem`: the command line (parser.py builds it, commands.py and demo.py do the work)."""

from __future__ import annotations

import sys

from .commands import CliError
from .parser import PROG, build_parser

__all__ = ["CliError", "main"]


def _errors() -> tuple[type[BaseException], ...]:
    from ..adapter import AdapterMismatchError
    from ..models import ModelNotFoundError
    from ..storage import StorageError

    return (CliError, ValueError, TypeError, FileNotFoundError, IsADirectoryError, ModelNotFoundError, StorageError,
            AdapterMismatchError)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "train":
        from .commands import train

        return _guarded(lambda: train(argv[1:]))
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return _guarded(lambda: int(args.func(args) or 0))


def _guarded(run) -> int:
    """Run a command; a known error prints one line and exits 1, an interrupt exits 130."""
    try:
        return run()
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted (stored state is kept; run the command again to resume)", file=sys.stderr)
        return 130
    except _errors() as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1
