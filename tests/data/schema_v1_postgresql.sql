CREATE TABLE memory_blocks (
    id bigint NOT NULL,
    session_id character varying(512) NOT NULL,
    first_seq integer NOT NULL,
    last_seq integer NOT NULL,
    level integer NOT NULL,
    vectors bytea NOT NULL,
    dtype character varying(32) NOT NULL,
    shape json NOT NULL,
    model_fingerprint text NOT NULL,
    adapter_id text,
    stats json NOT NULL,
    created_at timestamp with time zone NOT NULL
);
CREATE SEQUENCE memory_blocks_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE memory_blocks_id_seq OWNED BY memory_blocks.id;
CREATE TABLE messages (
    id bigint NOT NULL,
    session_id character varying(512) NOT NULL,
    seq integer NOT NULL,
    role character varying(64) NOT NULL,
    content text NOT NULL,
    name text,
    tool_calls json,
    tool_call_id text,
    extra json,
    token_count integer,
    created_at timestamp with time zone NOT NULL
);
CREATE SEQUENCE messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE messages_id_seq OWNED BY messages.id;
CREATE TABLE schema_version (
    id integer NOT NULL,
    version integer NOT NULL,
    CONSTRAINT ck_schema_version_single_row CHECK ((id = 1))
);
CREATE TABLE sessions (
    id character varying(512) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    last_seq integer NOT NULL,
    compressed_upto integer NOT NULL,
    write_lease_until timestamp with time zone,
    write_lease_owner character varying(255),
    metadata json NOT NULL
);
ALTER TABLE ONLY memory_blocks ALTER COLUMN id SET DEFAULT nextval('memory_blocks_id_seq'::regclass);
ALTER TABLE ONLY messages ALTER COLUMN id SET DEFAULT nextval('messages_id_seq'::regclass);
INSERT INTO memory_blocks VALUES (1, 'alice', 0, 1, 0, '\x40000000000000007b22766563746f7273223a7b226474797065223a22463332222c227368617065223a5b322c345d2c22646174615f6f666673657473223a5b302c33325d7d7d200000803f0000803f0000803f0000803f0000803f0000803f0000803f0000803f', 'float32', '[2, 4]', 'fp', NULL, '{"tokens": 20, "pieces": 1, "memory_tokens": 2, "token_accuracy": 0.9, "min_token_accuracy": 0.9, "loss": 0.5, "steps": 1, "seconds": 0.1, "stopped": "steps"}', '2026-12-04 21:26:08.003532+00');
INSERT INTO messages VALUES (1, 'alice', 0, 'user', 'Hi, my dog is called Biscuit and I live in Lisbon.', NULL, NULL, NULL, NULL, NULL, '2026-12-04 21:26:07.925619+00');
INSERT INTO messages VALUES (2, 'alice', 1, 'assistant', 'Nice to meet you!', NULL, NULL, NULL, NULL, NULL, '2026-12-04 21:26:07.925619+00');
INSERT INTO messages VALUES (3, 'alice', 2, 'user', 'The storage room door code is 4417.', NULL, NULL, NULL, NULL, NULL, '2026-12-04 21:26:07.925619+00');
INSERT INTO messages VALUES (4, 'alice', 3, 'assistant', 'Noted.', NULL, NULL, NULL, NULL, NULL, '2026-12-04 21:26:07.925619+00');
INSERT INTO schema_version VALUES (1, 1);
INSERT INTO sessions VALUES ('alice', '2026-12-04 21:26:07.925619+00', '2026-12-04 21:26:08.003532+00', 3, 1, NULL, NULL, '{}');
SELECT pg_catalog.setval('memory_blocks_id_seq', 1, true);
SELECT pg_catalog.setval('messages_id_seq', 4, true);
ALTER TABLE ONLY memory_blocks
    ADD CONSTRAINT memory_blocks_pkey PRIMARY KEY (id);
ALTER TABLE ONLY messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (id);
ALTER TABLE ONLY schema_version
    ADD CONSTRAINT schema_version_pkey PRIMARY KEY (id);
ALTER TABLE ONLY sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);
ALTER TABLE ONLY messages
    ADD CONSTRAINT uq_messages_session_seq UNIQUE (session_id, seq);
CREATE INDEX ix_memory_blocks_session_first_seq ON memory_blocks USING btree (session_id, first_seq);
ALTER TABLE ONLY memory_blocks
    ADD CONSTRAINT memory_blocks_session_id_fkey FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE;
ALTER TABLE ONLY messages
    ADD CONSTRAINT messages_session_id_fkey FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE;
