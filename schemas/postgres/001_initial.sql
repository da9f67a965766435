-- The tables of docs/contract.md#postgres (registry tables: also docs/contract.md#registry).
-- Applied once, in one transaction, by `tastesync db migrate`.

CREATE TABLE customers (
  customer_id varchar(64) PRIMARY KEY,
  last_seen   timestamptz,
  preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE beacons (
  beacon_id     uuid PRIMARY KEY,
  uuid          uuid NOT NULL,
  major         integer NOT NULL CHECK (major BETWEEN 0 AND 65535),
  minor         integer NOT NULL CHECK (minor BETWEEN 0 AND 65535),
  store_id      varchar(64) NOT NULL CHECK (store_id <> ''),
  location      varchar(32) NOT NULL CHECK (location <> ''),
  location_type text NOT NULL CHECK (location_type IN ('entrance', 'table', 'counter')),
  status        text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'inactive', 'maintenance')),
  tx_power      integer CHECK (tx_power BETWEEN -100 AND -1),
  radius_m      double precision CHECK (radius_m >= 0.1 AND radius_m <= 50),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (uuid, major, minor)
);

CREATE TABLE qr_codes (
  code          varchar(256) PRIMARY KEY CHECK (code <> ''),
  store_id      varchar(64) NOT NULL CHECK (store_id <> ''),
  location      varchar(32) NOT NULL CHECK (location <> ''),
  location_type text NOT NULL CHECK (location_type IN ('entrance', 'table', 'counter')),
  status        text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'inactive', 'maintenance')),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per CustomerIdentified event. Monthly partitions are created ahead by the service
-- (tastesync_ensure_partitions); there is deliberately no DEFAULT partition: rows in it would
-- block creating the month's partition later (docs/platform.md#postgres-traps).
CREATE TABLE customer_identities (
  event_id       uuid NOT NULL,
  customer_id    varchar(64) NOT NULL,
  beacon_id      uuid,
  qr_code        varchar(256),
  source         text NOT NULL CHECK (source IN ('beacon', 'qr')),
  sighting_id    varchar(64) NOT NULL,
  location       varchar(32) NOT NULL,
  location_type  text NOT NULL CHECK (location_type IN ('entrance', 'table', 'counter')),
  store_id       varchar(64) NOT NULL,
  confidence     numeric(4, 3) NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  identification text NOT NULL CHECK (identification IN ('arrival', 'move', 'still_here')),
  detected_at    timestamptz NOT NULL,
  CHECK ((source = 'beacon') = (beacon_id IS NOT NULL)),
  CHECK ((source = 'qr') = (qr_code IS NOT NULL)),
  UNIQUE (event_id, detected_at)
) PARTITION BY RANGE (detected_at);

CREATE INDEX customer_identities_customer_id ON customer_identities (customer_id);
CREATE INDEX customer_identities_detected_at ON customer_identities (detected_at);

-- Creates the monthly partitions covering [month of from_time, + months). Idempotent and safe
-- to run from several sinks at once (the advisory lock serialises the check-then-create).
CREATE FUNCTION tastesync_ensure_partitions(from_time timestamptz, months integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  -- Month arithmetic on UTC wall time: partitions are UTC months whatever the session's TimeZone.
  first_month timestamp := date_trunc('month', from_time AT TIME ZONE 'UTC');
  lower_bound timestamptz;
  upper_bound timestamptz;
  name text;
  created integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('tastesync_partitions'));
  FOR i IN 0 .. months - 1 LOOP
    lower_bound := (first_month + make_interval(months => i)) AT TIME ZONE 'UTC';
    upper_bound := (first_month + make_interval(months => i + 1)) AT TIME ZONE 'UTC';
    name := 'customer_identities_' || to_char(first_month + make_interval(months => i), 'YYYY_MM');
    IF to_regclass(name) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF customer_identities FOR VALUES FROM (%L) TO (%L)',
                     name, lower_bound, upper_bound);
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END $$;

-- Drops the monthly partitions that end at or before `before` (5-year retention:
-- docs/contract.md#retention).
CREATE FUNCTION tastesync_drop_partitions_before(before timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  part record;
  dropped integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('tastesync_partitions'));
  FOR part IN
    SELECT child.relname AS name
    FROM pg_inherits
    JOIN pg_class child ON child.oid = pg_inherits.inhrelid
    JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
    WHERE parent.relname = 'customer_identities'
      AND child.relname ~ '^customer_identities_[0-9]{4}_[0-9]{2}$'
  LOOP
    IF (to_date(substring(part.name from '[0-9]{4}_[0-9]{2}$'), 'YYYY_MM') + interval '1 month')
        AT TIME ZONE 'UTC' <= before THEN
      EXECUTE format('DROP TABLE %I', part.name);
      dropped := dropped + 1;
    END IF;
  END LOOP;
  RETURN dropped;
END $$;

-- The running pipelines reload the registry when this fires (LISTEN tastesync_registry); one
-- notification per statement is enough, they reload it whole.
CREATE FUNCTION tastesync_notify_registry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tastesync_registry', TG_TABLE_NAME);
  RETURN NULL;
END $$;

CREATE TRIGGER beacons_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON beacons
  FOR EACH STATEMENT EXECUTE FUNCTION tastesync_notify_registry();
CREATE TRIGGER qr_codes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON qr_codes
  FOR EACH STATEMENT EXECUTE FUNCTION tastesync_notify_registry();
