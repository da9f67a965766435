-- Customers erased by `tastesync forget` (docs/operations.md#forget), by the hex SHA-256 of their
-- id, never the id itself. The PostgreSQL sink deletes their rows when the erasure's tombstone
-- arrives and from then on stores no event of theirs detected at or before `forgotten_at`: a
-- replay, or the sink's group reset to an earlier offset, cannot bring them back. A visit after
-- the request is stored as usual.
CREATE TABLE forgotten_customers (
  customer_hash char(64) PRIMARY KEY CHECK (customer_hash ~ '^[0-9a-f]{64}$'),
  forgotten_at  timestamptz NOT NULL,
  request_id    varchar(64) NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
