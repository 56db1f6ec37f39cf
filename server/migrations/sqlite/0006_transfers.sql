-- Deposits (issue 12). A transfer's state only moves forward: `status_rank` orders them
-- (reported by the browser 0, pending 1, succeeded or failed 2), and a later event of a lower
-- or equal rank is recorded in webhook_events but not applied.
CREATE TABLE transfers (
    transfer_id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    status_rank BIGINT NOT NULL,
    symbol TEXT,
    network TEXT,
    amount TEXT,
    destination TEXT,
    tx_hash TEXT,
    updated_at BIGINT NOT NULL
);

CREATE INDEX transfers_by_user ON transfers (user_id, updated_at);

-- Every verified webhook delivery, stored before it is answered. Retries of one event share
-- its EventId, so they are one row; processed_at is set once the event has been applied.
CREATE TABLE webhook_events (
    event_id TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    deliveries BIGINT NOT NULL DEFAULT 1,
    processed_at BIGINT
);

CREATE INDEX webhook_events_unprocessed ON webhook_events (received_at) WHERE processed_at IS NULL;
