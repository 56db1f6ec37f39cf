-- Connections Link handed over, one row per (user, broker type, account). A pending
-- (delayed-auth) connection has account_id '' until an account of that broker connects.
-- Tokens are AES-256-GCM ciphertexts (nonce || ciphertext || tag) under the key `key_id`.
CREATE TABLE broker_connections (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    broker_type TEXT NOT NULL,
    account_id TEXT NOT NULL,
    broker_name TEXT NOT NULL,
    broker_logo TEXT,
    account_name TEXT,
    cash REAL,
    fund REAL,
    key_id TEXT NOT NULL,
    access_token BLOB,
    refresh_token BLOB,
    token_id TEXT,
    connected_at BIGINT NOT NULL,
    expires_at BIGINT,
    refresh_expires_at BIGINT,
    UNIQUE (user_id, broker_type, account_id)
);

CREATE INDEX broker_connections_by_user ON broker_connections (user_id, connected_at);
