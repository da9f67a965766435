-- What the location filter learnt about each beacon from QR scans (docs/scoring.md, "Learning
-- the room from QR scans"), exported by `tastesync run` (docs/contract.md#postgres).

-- Per input partition: each partition learns from the scans of its own customers, and an
-- instance writes only the partitions it checkpointed. A row never goes back in time.
CREATE TABLE beacon_learned_levels (
  beacon_id        uuid NOT NULL,
  input_partition  integer NOT NULL CHECK (input_partition >= 0),
  learned_tx_power double precision NOT NULL CHECK (learned_tx_power BETWEEN -200 AND 100),
  scans            real NOT NULL CHECK (scans > 0),
  learned_at       timestamptz NOT NULL,
  PRIMARY KEY (beacon_id, input_partition)
);

-- Beside the installer's tx_power: the partitions' levels weighted by their scans.
ALTER TABLE beacons
  ADD COLUMN learned_tx_power double precision,
  ADD COLUMN learned_scans    real,
  ADD COLUMN learned_at       timestamptz;

-- Learnt values are not the registry: only a change of the registry's own columns wakes the
-- registry watchers (an export every few seconds would otherwise reload the registry as often).
DROP TRIGGER beacons_changed ON beacons;
CREATE TRIGGER beacons_changed AFTER INSERT OR DELETE OR TRUNCATE ON beacons
  FOR EACH STATEMENT EXECUTE FUNCTION tastesync_notify_registry();
CREATE TRIGGER beacons_registry_updated
  AFTER UPDATE OF beacon_id, uuid, major, minor, store_id, location, location_type, status,
                  tx_power, radius_m, updated_at ON beacons
  FOR EACH STATEMENT EXECUTE FUNCTION tastesync_notify_registry();
