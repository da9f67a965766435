#!/usr/bin/python3
"""Validates messages against schemas/*.schema.json (python3-jsonschema, draft 2020-12).

  validate.py fixtures --schemas DIR --cases tests/fixtures/parse_cases.jsonl
      Every `ok` case must match the sighting schema; every error case JSON Schema can express
      must fail it; every case whose error lies outside the value must pass it (so the schema
      rejects nothing docs/contract.md#sighting accepts).

  validate.py output --schemas DIR --events EVENTS --sightings SIGHTINGS [--expect-kinds K,..]
                     [--expect-sources S,..]
      EVENTS and SIGHTINGS are `kcat -J` dumps of customer-events and raw-beacons. Every event
      must match the event schema and, beyond it, docs/contract.md#topics, #customer-identified
      and #event-id (key, headers, event_id, 3 decimals, no undocumented field); every sighting
      must match the sighting schema.

Run with /usr/bin/python3 (the Debian jsonschema), not a pyenv interpreter.
"""

import argparse
import json
import sys
import uuid

import jsonschema

EVENT_ID_NAMESPACE = uuid.UUID("7f1c2b9e-4d3a-4c5e-9b1a-2e6f8d0c4a31")

# Error codes (docs/contract.md#sighting-errors) by where the rule lives.
# Rules on the JSON value alone: the sighting schema encodes them.
SCHEMA_CODES = {"missing_field", "out_of_range", "wrong_type", "bad_uuid", "bad_timestamp",
                "unknown_source"}
# The bytes are not one well-formed JSON object (duplicate keys included): rejected before any
# schema applies; here by a strict decoder standing in for the service's parser.
DECODING_CODES = {"invalid_json", "invalid_utf8"}
# Rules on the record around the value (its size, key, Kafka timestamp): no JSON Schema can see
# them, so the value itself must pass.
RECORD_CODES = {"too_large", "key_mismatch", "too_far_in_future", "too_old"}
# bad_timestamp also covers "the record has no Kafka timestamp": a record-level rule.
RECORD_LEVEL_CASES = {"record without a Kafka timestamp"}


class DecodingError(ValueError):
    pass


def strict_loads(data):
    """One JSON value from bytes: UTF-8, no duplicate keys, nothing after it."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DecodingError(f"invalid UTF-8: {e}") from e

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        duplicated = {k for k in keys if keys.count(k) > 1}
        if duplicated:
            raise DecodingError(f"duplicate keys {sorted(duplicated)}")
        return dict(pairs)

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as e:
        raise DecodingError(f"invalid JSON: {e}") from e


def validator(path):
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(check, instance):
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in check.iter_errors(instance)]


def check_fixtures(args):
    sightings = validator(f"{args.schemas}/sighting.v1.schema.json")
    failures = []
    report = {"ok": 0, "rejected by the schema": [], "rejected before the schema": [],
              "outside the schema's reach": []}
    with open(args.cases, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    for case in cases:
        name, expect = case["name"], case["expect"]
        raw = bytes.fromhex(case["record_hex"]) if "record_hex" in case else case["record"]
        try:
            value = strict_loads(raw)
            decoding_error = None
        except DecodingError as e:
            value, decoding_error = None, str(e)
        errors = [] if decoding_error else schema_errors(sightings, value)

        if expect == "ok":
            report["ok"] += 1
            if decoding_error or errors:
                failures.append(f"ok case '{name}' fails: {decoding_error or errors}")
        elif expect in RECORD_CODES or name in RECORD_LEVEL_CASES:
            report["outside the schema's reach"].append(f"{expect}: {name}")
            if decoding_error or errors:
                failures.append(f"'{name}' ({expect}) is a record-level error, yet its value "
                                f"fails: {decoding_error or errors}")
        elif expect in DECODING_CODES:
            if decoding_error:
                report["rejected before the schema"].append(f"{expect}: {name}")
            elif errors:
                report["rejected by the schema"].append(f"{expect}: {name}")
            else:
                failures.append(f"'{name}' ({expect}) decodes and passes the schema")
        elif expect in SCHEMA_CODES:
            if decoding_error:
                failures.append(f"'{name}' ({expect}) is not even JSON: {decoding_error}")
            elif not errors:
                failures.append(f"'{name}' ({expect}) passes the sighting schema")
            else:
                report["rejected by the schema"].append(f"{expect}: {name}")
        else:
            failures.append(f"'{name}': unknown error code {expect}")

    print(f"{report['ok']} ok cases match the sighting schema")
    for section in ("rejected by the schema", "rejected before the schema",
                    "outside the schema's reach"):
        print(f"{section} ({len(report[section])}):")
        for line in report[section]:
            print(f"  {line}")
    return failures


def kcat_records(path):
    """`kcat -J` lines: one JSON envelope per record."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def headers_of(envelope):
    flat = envelope.get("headers") or []
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


def documented_fields(schema_node, root):
    node = schema_node
    if "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return set(node.get("properties", {}))


def check_event(envelope, check, root):
    where = f"customer-events[{envelope['partition']}]@{envelope['offset']}"
    try:
        event = strict_loads(envelope["payload"])
    except DecodingError as e:
        return [f"{where}: {e}"], None
    problems = [f"{where}: {error}" for error in schema_errors(check, event)]
    if problems:
        return problems, None
    data = event["data"]
    extra = set(event) - documented_fields(root, root)
    extra |= {f"data.{k}" for k in set(data) - documented_fields(root["properties"]["data"], root)}
    if extra:
        problems.append(f"{where}: fields the schema does not document: {sorted(extra)}")
    if envelope.get("key") != data["customer_id"]:
        problems.append(f"{where}: key {envelope.get('key')!r} is not data.customer_id")
    headers = headers_of(envelope)
    wanted = {"event_type": "CustomerIdentified", "version": "v1", "event_id": event["event_id"]}
    for name, value in wanted.items():
        if headers.get(name) != value:
            problems.append(f"{where}: header {name}={headers.get(name)!r}, expected {value!r}")
    name = "\n".join([data["customer_id"], data["store_id"], data["location"],
                      data["detected_at"], data["sighting_id"]])
    expected_id = str(uuid.uuid5(EVENT_ID_NAMESPACE, name))
    if event["event_id"] != expected_id:
        problems.append(f"{where}: event_id {event['event_id']} is not the contract's "
                        f"{expected_id} (docs/contract.md#event-id)")
    if round(data["confidence"], 3) != data["confidence"]:
        problems.append(f"{where}: confidence {data['confidence']} has more than 3 decimals")
    return problems, event


def check_output(args):
    events_check = validator(f"{args.schemas}/customer_identified.v1.schema.json")
    sightings_check = validator(f"{args.schemas}/sighting.v1.schema.json")
    root = events_check.schema
    failures = []

    events = kcat_records(args.events)
    kinds, sources = {}, {}
    for envelope in events:
        problems, event = check_event(envelope, events_check, root)
        failures += problems
        if event:
            kind, source = event["data"]["identification"], event["data"]["source"]
            kinds[kind] = kinds.get(kind, 0) + 1
            sources[source] = sources.get(source, 0) + 1
    print(f"{len(events)} events checked; identification {kinds}; source {sources}")
    if not events:
        failures.append("no events to validate")
    for kind in filter(None, args.expect_kinds.split(",")):
        if kind not in kinds:
            failures.append(f"no '{kind}' event among the output: that branch went unchecked")
    for source in filter(None, args.expect_sources.split(",")):
        if source not in sources:
            failures.append(f"no '{source}' event among the output: that branch went unchecked")

    sightings = kcat_records(args.sightings)
    for envelope in sightings:
        where = f"raw-beacons[{envelope['partition']}]@{envelope['offset']}"
        try:
            errors = schema_errors(sightings_check, strict_loads(envelope["payload"]))
        except DecodingError as e:
            errors = [str(e)]
        failures += [f"{where}: {error}" for error in errors]
    print(f"{len(sightings)} sightings checked")
    if not sightings:
        failures.append("no sightings to validate")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    fixtures = sub.add_parser("fixtures")
    fixtures.add_argument("--schemas", required=True)
    fixtures.add_argument("--cases", required=True)
    output = sub.add_parser("output")
    output.add_argument("--schemas", required=True)
    output.add_argument("--events", required=True)
    output.add_argument("--sightings", required=True)
    output.add_argument("--expect-kinds", default="")
    output.add_argument("--expect-sources", default="")
    args = parser.parse_args()

    failures = check_fixtures(args) if args.mode == "fixtures" else check_output(args)
    for failure in failures[:50]:
        print(f"FAIL {failure}", file=sys.stderr)
    if len(failures) > 50:
        print(f"... and {len(failures) - 50} more", file=sys.stderr)
    print("schema check " + ("failed" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
