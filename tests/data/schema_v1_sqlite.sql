PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE schema_version (
	id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT ck_schema_version_single_row CHECK (id = 1)
);
INSERT INTO schema_version VALUES(1,1);
CREATE TABLE sessions (
	id VARCHAR(512) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	last_seq INTEGER NOT NULL, 
	compressed_upto INTEGER NOT NULL, 
	write_lease_until DATETIME, 
	write_lease_owner VARCHAR(255), 
	metadata JSON NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO sessions VALUES('alice','2026-12-04 21:25:52.929760','2026-12-04 21:25:53.003271',3,1,NULL,NULL,'{}');
CREATE TABLE messages (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	session_id VARCHAR(512) NOT NULL, 
	seq INTEGER NOT NULL, 
	role VARCHAR(64) NOT NULL, 
	content TEXT NOT NULL, 
	name TEXT, 
	tool_calls JSON, 
	tool_call_id TEXT, 
	extra JSON, 
	token_count INTEGER, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT uq_messages_session_seq UNIQUE (session_id, seq), 
	FOREIGN KEY(session_id) REFERENCES sessions (id) ON DELETE CASCADE
);
INSERT INTO messages VALUES(1,'alice',0,'user','Hi, my dog is called Biscuit and I live in Lisbon.',NULL,NULL,NULL,NULL,NULL,'2026-12-04 21:25:52.929760');
INSERT INTO messages VALUES(2,'alice',1,'assistant','Nice to meet you!',NULL,NULL,NULL,NULL,NULL,'2026-12-04 21:25:52.929760');
INSERT INTO messages VALUES(3,'alice',2,'user','The storage room door code is 4417.',NULL,NULL,NULL,NULL,NULL,'2026-12-04 21:25:52.929760');
INSERT INTO messages VALUES(4,'alice',3,'assistant','Noted.',NULL,NULL,NULL,NULL,NULL,'2026-12-04 21:25:52.929760');
CREATE TABLE memory_blocks (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	session_id VARCHAR(512) NOT NULL, 
	first_seq INTEGER NOT NULL, 
	last_seq INTEGER NOT NULL, 
	level INTEGER NOT NULL, 
	vectors BLOB NOT NULL, 
	dtype VARCHAR(32) NOT NULL, 
	shape JSON NOT NULL, 
	model_fingerprint TEXT NOT NULL, 
	adapter_id TEXT, 
	stats JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	FOREIGN KEY(session_id) REFERENCES sessions (id) ON DELETE CASCADE
);
INSERT INTO memory_blocks VALUES(1,'alice',0,1,0,X'40000000000000007b22766563746f7273223a7b226474797065223a22463332222c227368617065223a5b322c345d2c22646174615f6f666673657473223a5b302c33325d7d7d200000803f0000803f0000803f0000803f0000803f0000803f0000803f0000803f','float32','[2, 4]','fp',NULL,'{"tokens": 20, "pieces": 1, "memory_tokens": 2, "token_accuracy": 0.9, "min_token_accuracy": 0.9, "loss": 0.5, "steps": 1, "seconds": 0.1, "stopped": "steps"}','2026-12-04 21:25:53.003271');
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('messages',4);
INSERT INTO sqlite_sequence VALUES('memory_blocks',1);
CREATE INDEX ix_memory_blocks_session_first_seq ON memory_blocks (session_id, first_seq);
COMMIT;
