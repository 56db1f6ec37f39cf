-- The cash and fund values Link reports are kept as exact decimal text instead of floating
-- point. Link sends JavaScript numbers: their shortest decimal spelling is what the user saw,
-- and it is what the new columns hold. The old REAL columns are emptied, not dropped, so the
-- migration is one cheap statement per row on both databases.
ALTER TABLE broker_connections ADD COLUMN cash_amount TEXT;
ALTER TABLE broker_connections ADD COLUMN fund_amount TEXT;

UPDATE broker_connections
SET cash_amount = CAST(cash AS TEXT), fund_amount = CAST(fund AS TEXT), cash = NULL, fund = NULL
WHERE cash IS NOT NULL OR fund IS NOT NULL;
