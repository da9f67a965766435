-- customer_identities' unique key leads with detected_at (docs/platform.md#postgres-traps): the
-- same pair of columns, so a redelivered event still inserts nothing, but a new row lands at the
-- key's right-hand edge instead of a random page of a UUID-ordered index, and the key serves every
-- query on detected_at, so the separate index on it goes. docs/contract.md#postgres.
-- It builds the new key over every partition under an exclusive lock (docs/storage.md).
ALTER TABLE customer_identities
  ADD CONSTRAINT customer_identities_detected_at_event_id_key UNIQUE (detected_at, event_id);
ALTER TABLE customer_identities DROP CONSTRAINT customer_identities_event_id_detected_at_key;
DROP INDEX customer_identities_detected_at;
