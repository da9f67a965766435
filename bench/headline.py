#!/usr/bin/env python3
"""Issue 17's headline figure, made the way it is checked from outside, in one command:

    bench/headline.py [--build build/release] [--sightings 400000] [--partitions 24]
                      [--passthrough-runs 3] [--pipeline-runs 3]

A `tastesync dev-broker` in its own process with PARTITIONS partitions; `tastesync gen` pre-loads
SIGHTINGS sightings; then, on those same records and that same broker process:

- the C passthrough (tastesync_bench --passthrough-only: consume -> produce the same bytes with
  the pipeline's own librdkafka properties, idempotent producer, offsets stored only after
  delivery, and committed at once when caught up as the pipeline does:
  docs/contract.md#caught-up-commit), PASSTHROUGH_RUNS times, each with its own group and output
  topic, timed from its first record to the moment an outside observer sees every partition
  committed at its end;
- `tastesync run` (assign mode, at_least_once, a fresh state dir, its own group and output
  topic, the passthrough's auto.commit.interval.ms of 100), PIPELINE_RUNS times, timed the same way: from its first record consumed
  (tastesync_records_consumed_total, read every 20 ms) to the moment an outside observer
  (tastesync_bench --observe-commits, the passthrough's own observer) sees every partition
  committed at its end; plus its start-up: process start to its first event acknowledged
  (tastesync_events_delivered_total > 0).

For each run it also reads the CPU seconds (user + system, every thread) the process and the
broker process used over the timed interval, the same per thread name (`pipeline`, `checkpoint`,
librdkafka's `rdk:*`, RocksDB's `rocksdb:*`; the passthrough reports its own threads), and the
context switches: the CPU-per-record breakdown issue 17 asks for; and the bytes sent over the
loopback interface, which would show a record fetched twice. Also each run's minor page faults
by thread, the pipeline thread's time on a CPU / runnable / asleep, the peak resident memory, and
the share of records parsed on the parse thread.

The passthrough runs are spread among the pipeline runs (this VM's speed drifts within minutes).
Prints one line per run as it ends, then each pipeline run's ratio to the passthrough median and
to the passthrough runs made just before and after it, and the median steady-state ratio
pipeline / passthrough. No assertions: docs/bench.md says what the figures mean.
"""
import argparse
import json
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU seconds of every thread of `pid` (/proc/PID/stat, fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def thread_cpu_seconds(pid):
    """{tid: (name, user + system CPU seconds, minor page faults, seconds runnable but waiting for
    a CPU)} of `pid`'s threads (/proc/PID/task/*: stat, and schedstat's run-queue wait):
    `pipeline` and `checkpoint` (tastesync names them), librdkafka's `rdk:*`, RocksDB's
    `rocksdb:*`. A thread that ended in between is missing from the later reading."""
    seconds = {}
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            waited = int((task / "schedstat").read_text().split()[1]) / 1e9
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile
        seconds[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / TICKS,
                                   int(fields[7]), waited)
    return seconds


def pipeline_thread_time(first, last, wall):
    """'; the pipeline thread over the 1.30 s: 0.73 s on a CPU, 0.31 s runnable waiting for one,
    0.26 s asleep': where the thread every record passes through spent the timed interval (sleep
    is the consumer poll, a full producer queue, or a checkpoint hand-off). Empty when the
    process has no thread named `pipeline`."""
    for tid, (name, cpu, _, waited) in last.items():
        if name != "pipeline" or tid not in first:
            continue
        on_cpu = cpu - first[tid][1]
        runnable = waited - first[tid][3]
        return (f"; the pipeline thread over the {wall:.2f} s: {on_cpu:.2f} s on a CPU, "
                f"{runnable:.2f} s runnable waiting for one, "
                f"{max(wall - on_cpu - runnable, 0.0):.2f} s asleep")
    return ""


def thread_breakdown(first, last, per_record):
    """'pipeline 3.10, rdk:broker1 1.62 (1.20 + 0.42), ...' us/record between two
    thread_cpu_seconds readings, summed by thread name, largest first, with each thread of a
    shared name in brackets (a consumer and a producer both have an `rdk:broker1`); threads
    under 0.05 us/record left out."""
    by_name = {}
    for tid, (name, seconds, *_) in last.items():
        spent = (seconds - first.get(tid, (name, 0.0, 0, 0.0))[1]) * per_record
        by_name.setdefault(name, []).append(spent)
    parts = []
    for name, spent in sorted(by_name.items(), key=lambda item: -sum(item[1])):
        if sum(spent) < 0.05:
            continue
        busy = sorted((value for value in spent if value >= 0.05), reverse=True)
        split = f" ({' + '.join(f'{value:.2f}' for value in busy)})" if len(busy) > 1 else ""
        parts.append(f"{name} {sum(spent):.2f}{split}")
    return ", ".join(parts)


def fault_breakdown(first, last, records):
    """'62 per 1 000 records: rdk:broker1 41, checkpoint 11, ...': minor page faults between two
    thread_cpu_seconds readings, in all and by thread name, largest first, names under 1 per
    1 000 records left out. On the VM of docs/bench.md#issue-17-6 each costs ~11 us of the
    thread's CPU, so they explain much of the breakdown's differences."""
    by_name = {}
    for tid, (name, _, faults, *_) in last.items():
        by_name[name] = by_name.get(name, 0) + faults - first.get(tid, (name, 0.0, 0, 0.0))[2]
    per_thousand = {name: faults * 1000 / records for name, faults in by_name.items()}
    parts = [f"{name} {value:.0f}" for name, value in
             sorted(per_thousand.items(), key=lambda item: -item[1]) if value >= 1]
    return f"{sum(per_thousand.values()):.0f} per 1 000 records: {', '.join(parts)}"


def passthrough_threads(figures, per_record):
    """'; by thread, us/record: ...' from the passthrough's own reading of its threads (none from
    a bench binary without it)."""
    if "threads" not in figures:
        return ""
    last = {thread["tid"]: (thread["name"], thread["cpu_s"], thread.get("minflt", 0), 0.0)
            for thread in figures["threads"]}
    faults = (f"; minor page faults {fault_breakdown({}, last, figures['records'])}"
              if any("minflt" in thread for thread in figures["threads"]) else "")
    return f"; by thread, us/record: {thread_breakdown({}, last, per_record)}{faults}"


def loopback_bytes():
    """Bytes sent over the loopback interface so far: every byte between the broker process and
    its clients (the run's fetches and produces, plus this script's small scrapes and the
    observer's offset requests), so that a run that fetches a record twice shows it."""
    return int(pathlib.Path("/sys/class/net/lo/statistics/tx_bytes").read_text())


def peak_resident_mb(pid):
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def context_switches(pid):
    """(voluntary, involuntary) summed over the threads of `pid`."""
    voluntary = involuntary = 0
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    voluntary += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches:"):
                    involuntary += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return voluntary, involuntary


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def counters(port):
    """{name: value} of the unlabelled samples on one scrape of /metrics ({} when unreachable).
    One scrape a poll: each costs the pipeline process and this script CPU the passthrough's
    runs do not pay (docs/bench.md#issue-17-23)."""
    try:
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1).read()
    except OSError:
        return {}
    values = {}
    for line in page.decode().splitlines():
        name, _, value = line.partition(" ")
        if value and "{" not in name and not name.startswith("#"):
            values[name] = float(value)
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument("--build", default=str(root / "build" / "release"))
    parser.add_argument("--sightings", type=int, default=400000)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--partitions", type=int, default=24)
    parser.add_argument("--passthrough-runs", type=int, default=3)
    parser.add_argument("--pipeline-runs", type=int, default=3)
    parser.add_argument("--compare", action="append", default=[], metavar="TASTESYNC",
                        help="another tastesync binary (e.g. a build of an earlier commit): the "
                             "pipeline runs alternate between the build's binary and these, and "
                             "the summary gives each one's median")
    parser.add_argument("--pipeline-property", action="append", default=[], metavar="NAME=VALUE",
                        help="an extra kafka.properties entry for the pipeline runs only (to try "
                             "a setting; the headline figure is made without)")
    args = parser.parse_args()
    pipeline_properties = dict(entry.split("=", 1) for entry in args.pipeline_property
                               if "=" in entry)
    if len(pipeline_properties) != len(args.pipeline_property):
        parser.error("--pipeline-property takes NAME=VALUE")
    binary = pathlib.Path(args.build) / "app" / "tastesync"
    bench = pathlib.Path(args.build) / "bench" / "tastesync_bench"
    work = pathlib.Path(tempfile.mkdtemp(prefix="tastesync-headline-"))
    children = []

    def start(arguments, log):
        process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL,
                                   stderr=open(work / log, "w"))
        children.append(process)
        return process

    try:
        broker = start([binary, "dev-broker", "--partitions", str(args.partitions),
                        "--bootstrap-file", work / "bootstrap"], "broker.log")
        for _ in range(100):
            if (work / "bootstrap").exists() and (work / "bootstrap").stat().st_size:
                break
            time.sleep(0.1)
        brokers = (work / "bootstrap").read_text().strip().split("=", 1)[1]
        subprocess.run([binary, "gen", "--brokers", brokers, "--count", str(args.sightings),
                        "--rate", "0", "--customers", str(args.customers), "--seed", "7",
                        "--start-time", "2025-03-02T12:00:00Z"],
                       check=True, stdout=subprocess.DEVNULL, stderr=open(work / "gen.log", "w"))
        # What the broker still holds (the mock keeps 5 MiB per partition:
        # docs/platform.md#mock-retention): the count every run must move.
        summary = subprocess.run([binary, "replay", "--brokers", brokers, "--group-id", "held",
                                  "--from-beginning", "--output-topic", "held", "--dry-run"],
                                 check=True, capture_output=True, text=True).stdout
        held = json.loads(summary)["records_read"]
        print(f"{args.sightings} sightings generated into {args.partitions} partitions; "
              f"{held} held by the broker process", flush=True)

        # The passthrough's commit interval (bench_config: 100 ms) for the pipeline too, so neither
        # end waits on a longer auto-commit than the other. A --pipeline-property replaces an
        # entry of the same name: tastesync refuses a configuration with a key twice.
        properties = {"auto.commit.interval.ms": "100", "statistics.interval.ms": "0"}
        properties.update(pipeline_properties)
        (work / "same-properties.yaml").write_text(
            "kafka:\n  properties:\n" +
            "".join(f'    {name}: "{value}"\n' for name, value in properties.items()))
        passthrough_rates = []  # (order of the run, records/s)
        pipelines = [binary] + [pathlib.Path(path) for path in args.compare]
        ratios_of = {str(path): [] for path in pipelines}
        startups = []
        pipeline_runs = []  # (order, binary, records/s, start-up s)

        def passthrough_run(run, order):
            group = f"passthrough-{run}"
            subprocess.run([binary, "topics", "create", "--brokers", brokers, "--group-id", group,
                            "--output-topic", f"out-{group}", "--dlq-topic", f"dlq-{group}",
                            "--consumer-mode", "assign"], check=True, capture_output=True)
            broker_cpu = cpu_seconds(broker.pid)
            loopback = loopback_bytes()
            result = subprocess.run([bench, "--passthrough-only", brokers, "--partitions",
                                     str(args.partitions), "--input-topic", "raw-beacons",
                                     "--output-topic", f"out-{group}", "--group", group],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                print(f"  passthrough run {run} (at {order}) failed ({result.returncode}): "
                      f"{result.stderr.strip()[-500:]}", flush=True)
                return
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            broker_cpu = cpu_seconds(broker.pid) - broker_cpu
            loopback = loopback_bytes() - loopback
            # The records it forwarded (what the broker held), as the pipeline's rate counts them.
            if figures["forwarded"] != held:
                print(f"  passthrough run {run}: forwarded {figures['forwarded']} records of "
                      f"{held} held", flush=True)
            rate = figures["forwarded"] / figures["seconds"]
            passthrough_rates.append((order, rate))
            per_record = 1e6 / figures["forwarded"]
            print(f"  passthrough run {run} (at {order}): {rate:9.0f} records/s ({figures['seconds']:.2f} s, "
                  f"start-up {figures['startup_s']:.2f} s); CPU {figures['cpu_s'] * per_record:.2f}"
                  f" us/record (broker process {broker_cpu * per_record:.2f} us/record over the "
                  f"whole run); loopback {loopback / figures['forwarded']:.0f} bytes/record "
                  f"over the whole run; context switches {figures['voluntary_switches']} voluntary, "
                  f"{figures['involuntary_switches']} involuntary"
                  f"{passthrough_threads(figures, per_record)}", flush=True)

        def pipeline_run(run, order):
            group = f"pipeline-{run}"
            port = free_port()
            subprocess.run([binary, "topics", "create", "--brokers", brokers, "--group-id", group,
                            "--output-topic", f"out-{group}", "--dlq-topic", f"dlq-{group}",
                            "--consumer-mode", "assign"], check=True, capture_output=True)
            observer = subprocess.Popen([bench, "--observe-commits", brokers, "--partitions",
                                         str(args.partitions), "--input-topic", "raw-beacons",
                                         "--group", group], stdout=subprocess.PIPE, text=True)
            launched = time.monotonic()
            pipeline_binary = pipelines[(run - 1) % len(pipelines)]
            pipeline = start([pipeline_binary, "run", "--config", work / "same-properties.yaml",
                              "--brokers", brokers, "--group-id", group,
                              "--consumer-mode", "assign", "--output-topic", f"out-{group}",
                              "--dlq-topic", f"dlq-{group}", "--state-dir", work / f"state-{group}",
                              "--metrics-port", str(port)], f"{group}.log")
            first = last = first_output = all_consumed = polled = ahead = wakes = events = None
            while time.monotonic() - launched < 300 and pipeline.poll() is None:
                scraped = counters(port)
                consumed = scraped.get("tastesync_records_consumed_total")
                now = time.monotonic()
                if first_output is None and scraped.get("tastesync_events_delivered_total", 0) > 0:
                    first_output = now
                if consumed and first is None:
                    first = now
                    polled_first = scraped.get("tastesync_consume_seconds_total")
                    cpu_first = cpu_seconds(pipeline.pid)
                    threads_first = thread_cpu_seconds(pipeline.pid)
                    broker_first = cpu_seconds(broker.pid)
                    loopback_first = loopback_bytes()
                    switches_first = context_switches(pipeline.pid)
                if first is not None and (consumed or 0) >= held and all_consumed is None:
                    # Time in the consumer poll while records were there to take: issue 17
                    # item 1 (fetching never waits for processing).
                    all_consumed = now
                    polled_last = scraped.get("tastesync_consume_seconds_total")
                    # None: a binary from before the metric (--compare).
                    polled = (None if polled_first is None or polled_last is None
                              else polled_last - polled_first)
                if first is not None and observer.poll() is not None:
                    last = json.loads(observer.stdout.read())["caught_up_monotonic_s"]
                    cpu = cpu_seconds(pipeline.pid) - cpu_first
                    threads_last = thread_cpu_seconds(pipeline.pid)
                    broker_cpu = cpu_seconds(broker.pid) - broker_first
                    loopback = loopback_bytes() - loopback_first
                    switches = context_switches(pipeline.pid)
                    peak_mb = peak_resident_mb(pipeline.pid)
                    # None: a binary from before these metrics (--compare).
                    scraped = counters(port)
                    ahead = scraped.get("tastesync_records_parsed_ahead_total")
                    wakes = scraped.get("tastesync_fetch_wakes_total")
                    events = scraped.get("tastesync_events_delivered_total")
                    break
                # Every 20 ms until the first record and the first output are seen (the run's
                # start and its start-up are read here); then every 100 ms, as the end is the
                # observer's own reading.
                time.sleep(0.02 if first is None or first_output is None else 0.1)
            if observer.poll() is None:
                observer.kill()
            if last is None and pipeline.poll() is not None:
                log_lines = (work / f"{group}.log").read_text(errors="replace").splitlines()
                tail = " | ".join(line.strip() for line in log_lines[-2:])[-500:]
                print(f"  pipeline run {run}: exited with code {pipeline.returncode} before "
                      f"consuming every record: {tail}", flush=True)
                return
            pipeline.send_signal(signal.SIGTERM)
            pipeline.wait(timeout=60)
            if last is None:
                print(f"  pipeline run {run}: did not consume every record in 300 s")
                return
            rate = held / (last - first)
            per_record = 1e6 / held
            startup = (first_output or last) - launched
            poll_note = (f"; in the consumer poll {polled:.2f} s of the {all_consumed - first:.2f}"
                         f" s to the last record consumed" if polled is not None else "")
            if ahead is not None and wakes is not None:
                poll_note += (f"; parsed on the parse thread {ahead / held:.0%} of the records; "
                              f"{wakes:.0f} fetch wakes")
            if events is not None:
                # Some costs are per event, not per record (the event's JSON, its headers, the
                # floor view): how many records made one says what they weigh.
                poll_note += f"; {events / held * 1000:.0f} events per 1 000 records"
            pipeline_runs.append((order, pipeline_binary, rate, startup))
            which = f" [{pipeline_binary}]" if args.compare else ""
            print(f"  pipeline run {run} (at {order}){which}: {rate:9.0f} records/s "
                  f"({last - first:.2f} s); first output "
                  f"{startup:.2f} s after start; peak resident memory {peak_mb:.0f} MB; "
                  f"CPU {cpu * per_record:.2f} us/record (broker "
                  f"process {broker_cpu * per_record:.2f} us/record); loopback "
                  f"{loopback / held:.0f} bytes/record; context switches "
                  f"{switches[0] - switches_first[0]} voluntary, "
                  f"{switches[1] - switches_first[1]} involuntary{poll_note}; by thread, "
                  f"us/record: {thread_breakdown(threads_first, threads_last, per_record)}; "
                  f"minor page faults {fault_breakdown(threads_first, threads_last, held)}"
                  f"{pipeline_thread_time(threads_first, threads_last, last - first)}",
                  flush=True)

        # The passthrough runs are spread among the pipeline runs, not all made first: this VM's
        # speed drifts within minutes (docs/bench.md#issue-17-8), and a drift must reach both
        # sides of the ratio alike.
        schedule = []
        for index in range(args.pipeline_runs):
            schedule += [(passthrough_run, k + 1) for k in range(args.passthrough_runs)
                         if args.pipeline_runs * k // args.passthrough_runs == index]
            schedule.append((pipeline_run, index + 1))
        for order, (step, run) in enumerate(schedule, start=1):
            step(run, order)
        if not passthrough_rates:
            print("no passthrough run finished")
            return 1
        passthrough = statistics.median(rate for _, rate in passthrough_rates)
        print(f"passthrough runs, records/s: "
              f"{', '.join(f'{rate:.0f} (at {order})' for order, rate in passthrough_rates)}")
        ratios = []
        paired_of = {str(path): [] for path in pipelines}
        for order, pipeline_binary, rate, startup in pipeline_runs:
            ratio = rate / passthrough
            ratios.append(ratio)
            ratios_of[str(pipeline_binary)].append(ratio)
            startups.append(startup)
            # The passthrough runs made just before and just after this run: its ratio to them
            # alone is the one least touched by a drift.
            before = [r for o, r in passthrough_rates if o < order]
            after = [r for o, r in passthrough_rates if o > order]
            neighbours = before[-1:] + after[:1]
            which = f" [{pipeline_binary}]" if args.compare else ""
            paired = rate / statistics.mean(neighbours)
            paired_of[str(pipeline_binary)].append(paired)
            print(f"  pipeline run at {order}{which}: {ratio:.2f} of the passthrough median, "
                  f"{paired:.2f} of the passthrough runs beside it")
        print(f"passthrough median {passthrough:.0f} records/s of {len(passthrough_rates)} runs; "
              f"pipeline / passthrough median {statistics.median(ratios):.2f} "
              f"({min(ratios):.2f}-{max(ratios):.2f}, {len(ratios)} runs); first output "
              f"{min(startups):.2f}-{max(startups):.2f} s after start" if ratios else
              "no pipeline run finished")
        if args.compare:
            for path, values in ratios_of.items():
                if values:
                    print(f"  {path}: median {statistics.median(values):.2f} "
                          f"({min(values):.2f}-{max(values):.2f}, {len(values)} runs); to the "
                          f"passthrough runs beside each, median "
                          f"{statistics.median(paired_of[path]):.2f}")
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    sys.exit(main())
