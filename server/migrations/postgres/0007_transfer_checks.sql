-- Reconciliation's schedule, shared by every instance: when Mesh may next be asked about an open
-- transfer (Unix seconds; 0 = now), and the wait used last time, doubled while Mesh's answer
-- stays the same. A change of state resets both.
ALTER TABLE transfers ADD COLUMN check_after BIGINT NOT NULL DEFAULT 0;
ALTER TABLE transfers ADD COLUMN check_interval BIGINT NOT NULL DEFAULT 0;

CREATE INDEX transfers_to_check ON transfers (check_after) WHERE status_rank < 2;
