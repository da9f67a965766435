#!/usr/bin/python3
"""Copies the subset of the UJI BLE RSS tables (CC BY 4.0, doi:10.5281/zenodo.1618692) that the
CI test replays into tests/fixtures/uji/: rows verbatim, only fewer of them.

Usage: make_fixture.py [SOURCE_DIR] [FIXTURE_DIR]
Subset: every scan of (geo, A5, -12 dBm) and of (lib, S6, -12 dBm, campaign 2), their readings,
and all beacons."""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
source = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/uji-ble-rss"
target = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "tests", "fixtures", "uji")
KEEP = {("geo", "A5", "-12", None), ("lib", "S6", "-12", "2")}


def kept(zone, phone, tx, campaign):
    return (zone, phone, tx, None) in KEEP or (zone, phone, tx, campaign) in KEEP


def copy(name, keep_row):
    with open(os.path.join(source, name), newline="") as src, \
            open(os.path.join(target, name), "w", newline="") as dst:
        header = src.readline()
        dst.write(header)
        columns = header.rstrip("\r\n").split(",")
        count = 0
        for line in src:
            row = dict(zip(columns, line.rstrip("\r\n").split(",")))
            if keep_row(row):
                dst.write(line)
                count += 1
    return count


scan_ids = set()


def keep_scan(row):
    if kept(row["zone"], row["phone"], row["beacon_tx_dbm"], row["campaign"]):
        scan_ids.add(row["scan_id"])
        return True
    return False


os.makedirs(target, exist_ok=True)
print("beacons.csv: %d rows" % copy("beacons.csv", lambda row: True))
print("scans.csv: %d rows" % copy("scans.csv", keep_scan))
print("readings.csv: %d rows" % copy("readings.csv", lambda row: row["scan_id"] in scan_ids))
