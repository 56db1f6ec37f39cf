-- When each anonymous user was last seen, so the tokens of users whose browsers forgot them are
-- revoked and deleted after RETENTION_DAYS. Users with connections before this migration count
-- as last seen at their latest connection.
CREATE TABLE users (
    user_id TEXT PRIMARY KEY NOT NULL,
    last_seen_at BIGINT NOT NULL
);

CREATE INDEX users_by_last_seen ON users (last_seen_at);

INSERT INTO users (user_id, last_seen_at)
SELECT user_id, MAX(connected_at) FROM broker_connections GROUP BY user_id;
