-- Tokens kept alive. One instance at a time refreshes a connection: it takes the lease
-- (`refresh_lease`, a random id, until `refresh_lease_until`) with a conditional UPDATE, which
-- PostgreSQL and SQLite both apply atomically. A failed refresh keeps the lease until its retry
-- time (`refresh_failures` sets the backoff). A connection whose refresh token no longer works
-- `needs_reconnect` until the user connects the account again.
ALTER TABLE broker_connections ADD COLUMN refresh_lease TEXT;
ALTER TABLE broker_connections ADD COLUMN refresh_lease_until BIGINT;
ALTER TABLE broker_connections ADD COLUMN refresh_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE broker_connections ADD COLUMN needs_reconnect BOOLEAN NOT NULL DEFAULT FALSE;

CREATE INDEX broker_connections_by_expiry ON broker_connections (expires_at);
