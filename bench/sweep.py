#!/usr/bin/env python3
"""Issue 17 item 4, cost as the work grows, in one command:

    bench/sweep.py [--build build/release] [--customers 10000,100000,1000000]
                   [--partitions 6,24,96] [--records-per-customer 4] [--min-records 0]
                   [--cadence pipeline] [--cap none] [--score-model filter] [--repeats 1]
                   [--json FILE]

For every customers x partitions pair, one `tastesync_bench --sweep-json` process (a fresh
process each, so no run inherits another's heap) generates CUSTOMERS x RECORDS_PER_CUSTOMER
sightings (at least MIN_RECORDS), runs them once through the stages and the RocksDB state path
(the "with RocksDB state path" figure of `tastesync_bench`) spread by key over PARTITIONS
partitions, and then measures what that state costs. --cadence pipeline (the default) checkpoints
as the pipeline does, every 100 ms or once a partition holds 25 000 records, so a customer changed
several times in an interval is written once; --cadence every-poll writes a WriteBatch with every
partition's checkpoint after every 1 000 records, as sweeps before docs/bench.md#issue-17-17 did.
At the pipeline's cadence a run shorter than one interval (10 000 customers at 4 records each:
40 000 records, under 0.1 s) writes a single checkpoint at its end: --min-records gives the small
points enough records for several (their customers then have longer histories). Per point:

- throughput: sightings/s of the state path (one core, the records pre-generated);
- resident memory: VmRSS and VmHWM from /proc/self/status after the run while the state is held
  (the pre-generated records included), and VmRSS once the records are freed and malloc_trim'd:
  the state, RocksDB's memtables and caches, the binary. "RSS B/cust." is that minus the
  process's VmRSS before the records were generated, per customer held;
- RocksDB: every file of the state dir after a flush, once the SST files have stopped changing
  for 1 s (compactions settled), its estimated keys, and bytes per customer held; and, after the
  restart below, the SST files and keys after a full compaction ("compacted"): the live state
  alone, without the superseded versions RocksDB keeps until a compaction reaches them (whether
  an L0 file of them is still there when the flush settles is chance);
- restart: the store closed and opened again, then every partition restored into a fresh
  PartitionState and normalized as Pipeline::on_assigned does. The files were just written and
  flushed, so this is the best case: page cache warm, no WAL to replay;
- customers held in memory after the run (PartitionState::size summed) and restored.

Then, per partition count: the throughput at the most customers over the fewest (issue 17: it may
not fall by more than a third, so at least 0.67), and whether growth is at
most linear: RocksDB bytes and resident memory per customer must not rise with the customer count
(10 % allowed for noise), nor restore seconds per customer (50 %: a timing, and at 10 000
customers a few tens of milliseconds). Printed as met / not met; nothing fails the run: it is a
bench. With --repeats N every point runs N times and the summary takes each point's best
throughput and fastest restore (as tastesync_bench takes the best of its passes: the machine is
shared); the 10 000-customer runs last a fraction of a second, so their timings are the noisiest.

No Kafka broker. librdkafka's mock cluster keeps only 5 MiB per partition (~16 000 generated
sightings), so a million customers' sightings (3-4 M records, ~1 GB) do not fit through it at any
of these partition counts; the sweep measures the in-process record path and the state, which is
what grows with the customers (docs/bench.md has the end-to-end figures through the mock).

The records: the product's generator (bench_common.hpp make_records) picks each scan's customer
by a pass over all its customers, which takes hours for a million; so above 10 000 customers
tastesync_bench merges generators of 10 000 customers each (see make_sweep_records). Each
simulates about 1 000 sightings/s, so every customer is scanned every ~30 s of event time
whatever the count, and RECORDS_PER_CUSTOMER 4 spans ~40 s of event time: no expiry, and ~97 %
of the customers heard at least once (the others were away from the stores when scanned;
"held" says how many). The pre-generated records take ~400-500 bytes each of memory (the "records
MiB" column): ~2 GB for 1 M customers at 4 records each.

The customer cap (state.max_customers_per_partition, 20 000 by default) would evict most of a
million customers in 6 partitions; by default (--cap none) each run sets it to the customer count
so that every customer stays held. --cap default keeps the product's, --cap N sets N.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import time

# How much a per-customer figure may rise from one customer count to the next and still count as
# not rising: bytes, and seconds.
BYTES_TOLERANCE = 1.10
SECONDS_TOLERANCE = 1.50


def parse_list(text):
    return [int(item) for item in text.split(",") if item]


def per_customer_rss(run):
    held = run["customers_held"]
    return (run["rss_state_kib"] - run["rss_start_kib"]) * 1024 / held if held else 0.0


def per_customer_restore_us(run):
    held = run["customers_restored"]
    return run["restore_s"] * 1e6 / held if held else 0.0


def compacted_bytes_per_customer(run):
    held = run["customers_held"]
    return run.get("rocksdb_compacted_sst_bytes", 0) / held if held else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build/release", help="the release build directory")
    parser.add_argument("--customers", type=parse_list, default=[10000, 100000, 1000000],
                        help="comma-separated customer counts")
    parser.add_argument("--partitions", type=parse_list, default=[6, 24, 96],
                        help="comma-separated partition counts")
    parser.add_argument("--records-per-customer", type=float, default=4.0,
                        help="sightings generated per customer (at least ~3 for all to be active)")
    parser.add_argument("--min-records", type=int, default=0,
                        help="at least this many records a point (more per customer at the small ones)")
    parser.add_argument("--cadence", default="pipeline", choices=["pipeline", "every-poll"],
                        help="when the state path checkpoints (see above)")
    parser.add_argument("--cap", default="none",
                        help="state.max_customers_per_partition: none (the customer count, so "
                             "nothing is evicted), default (the product's), or a number")
    parser.add_argument("--score-model", default="filter", choices=["filter", "radius"])
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of each point (the summary takes the best throughput)")
    parser.add_argument("--json", help="also append every run's JSON line to this file")
    args = parser.parse_args()

    bench = pathlib.Path(args.build) / "bench" / "tastesync_bench"
    if not bench.exists():
        print(f"{bench} not found: build it with ninja -C {args.build} tastesync_bench")
        return 1
    customers_list = sorted(set(args.customers))
    partitions_list = sorted(set(args.partitions))

    header = (f"{'customers':>9} {'parts':>5} {'records':>9} {'held':>9} {'sightings/s':>11} "
              f"{'records MiB':>11} {'RSS MiB':>8} {'HWM MiB':>8} {'RSS B/cust.':>11} "
              f"{'RocksDB MiB':>11} {'B/cust.':>7} {'keys/cust.':>10} {'reopen s':>8} "
              f"{'restore s':>9} {'restored':>9} {'wall s':>7} {'compacted B/c':>13} "
              f"{'compacted keys':>14}")
    print(f"records per customer {args.records_per_customer:g} (at least {args.min_records}), "
          f"checkpoints {args.cadence}, score.model {args.score_model}, cap {args.cap}",
          flush=True)
    print("(RSS: after the run with the records freed; HWM: the peak, records included; "
          "B/cust., keys/cust.: per customer held)")
    print(header, flush=True)
    runs = {}
    started = time.monotonic()
    points = [(c, p) for c in customers_list for p in partitions_list for _ in range(args.repeats)]
    for customers, partitions in points:
        records = max(1, args.min_records, round(customers * args.records_per_customer))
        command = [str(bench), "--sweep-json", "--customers", str(customers),
                   "--stage-records", str(records), "--stage-partitions", str(partitions),
                   "--score-model", args.score_model, "--sweep-cadence", args.cadence]
        if args.cap == "none":
            command += ["--max-customers-per-partition", str(customers)]
        elif args.cap != "default":
            command += ["--max-customers-per-partition", args.cap]
        run_started = time.monotonic()
        result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        wall = time.monotonic() - run_started
        lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        if result.returncode != 0 or not lines:
            print(f"{customers:>9} {partitions:>5}: tastesync_bench exited with "
                  f"{result.returncode}", flush=True)
            continue
        run = json.loads(lines[-1])
        runs.setdefault((customers, partitions), []).append(run)
        if args.json:
            with open(args.json, "a") as out:
                out.write(lines[-1] + "\n")
        held = run["customers_held"]
        print(f"{customers:>9} {partitions:>5} {run['records']:>9} {held:>9} "
              f"{run['sightings_per_s']:>11.0f} "
              f"{(run['rss_records_kib'] - run['rss_start_kib']) / 1024:>11.1f} "
              f"{run['rss_state_kib'] / 1024:>8.1f} {run['hwm_after_kib'] / 1024:>8.1f} "
              f"{per_customer_rss(run):>11.0f} "
              f"{run['rocksdb_dir_bytes'] / 2**20:>11.1f} "
              f"{run['rocksdb_bytes_per_customer']:>7.0f} "
              f"{run['rocksdb_keys'] / held if held else 0:>10.2f} "
              f"{run['reopen_s']:>8.3f} {run['restore_s']:>9.3f} "
              f"{run['customers_restored']:>9} {wall:>7.1f} "
              f"{compacted_bytes_per_customer(run):>13.0f} "
              f"{run.get('rocksdb_compacted_keys', 0) / held if held else 0:>14.2f}", flush=True)
        if run["evicted"]:
            print(f"{'':>15} {run['evicted']} customers evicted by the cap "
                  f"({run['max_customers_per_partition']} per partition)", flush=True)
    print(f"{sum(len(r) for r in runs.values())} runs in {time.monotonic() - started:.0f} s")

    if len(customers_list) < 2:
        return 0
    fewest, most = customers_list[0], customers_list[-1]
    print(f"\nper partition count, {most} customers against {fewest} (issue 17: throughput "
          f"falls by at most a third; bytes, memory and restore time per customer do not rise):")
    for partitions in partitions_list:
        series = [runs[(c, partitions)][0] for c in customers_list if (c, partitions) in runs]
        repeated = [runs[(c, partitions)] for c in customers_list if (c, partitions) in runs]
        best = [max(r["sightings_per_s"] for r in point) for point in repeated]
        fastest_restore = [min(per_customer_restore_us(r) for r in point) for point in repeated]
        counts = [r["customers"] for r in series]
        if len(series) < 2:
            print(f"  {partitions:>3} partitions: fewer than two runs")
            continue
        ratio = best[-1] / best[0]
        verdicts = []
        for label, figure, tolerance in (
                ("RocksDB B/cust.", lambda r: r["rocksdb_bytes_per_customer"], BYTES_TOLERANCE),
                ("compacted B/cust.", compacted_bytes_per_customer, BYTES_TOLERANCE),
                ("RSS B/cust.", per_customer_rss, BYTES_TOLERANCE),
                ("restore us/cust.", None, SECONDS_TOLERANCE)):
            values = fastest_restore if figure is None else [figure(r) for r in series]
            linear = all(b <= a * tolerance for a, b in zip(values, values[1:]))
            verdicts.append(f"{label} {' -> '.join(f'{v:.1f}' for v in values)} "
                            f"({'at most linear' if linear else 'RISES: faster than linear'})")
        print(f"  {partitions:>3} partitions ({' -> '.join(str(c) for c in counts)} customers): "
              f"throughput {' -> '.join(f'{b:.0f}' for b in best)}/s, {counts[-1]}/{counts[0]} "
              f"{ratio:.2f} "
              f"({'met' if ratio >= 2 / 3 else 'NOT met'}: at least 0.67)")
        for verdict in verdicts:
            print(f"      {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
