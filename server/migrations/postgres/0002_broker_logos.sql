-- Each broker logo is stored once, by the SHA-256 of its text, instead of in every account row
-- (a 380 KiB logo on 50 accounts wrote 19 MiB). Rows name their logo by `logo_hash`; the logos
-- already stored move to the new table under a per-row key.
CREATE TABLE broker_logos (
    hash TEXT PRIMARY KEY NOT NULL,
    logo TEXT NOT NULL
);

ALTER TABLE broker_connections ADD COLUMN logo_hash TEXT;

INSERT INTO broker_logos (hash, logo)
SELECT 'row-' || id, broker_logo FROM broker_connections WHERE broker_logo IS NOT NULL;

UPDATE broker_connections SET logo_hash = 'row-' || id, broker_logo = NULL
WHERE broker_logo IS NOT NULL;
