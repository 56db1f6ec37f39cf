-- A stored webhook delivery the database refused to apply (a poison event) is set aside with the
-- reason, and marked processed, so it never blocks the deliveries after it.
ALTER TABLE webhook_events ADD COLUMN set_aside_reason TEXT;
