#!/usr/bin/env python3
"""Checks deploy/ without a container engine (docs/deploy.md says what this covers and what it
cannot): the compose file (parsed, and by Debian's `docker-compose config` when installed), the
Kubernetes manifests, the Grafana dashboard against the metrics the code registers, and the
Dockerfile's runtime packages against the libraries the built binary needs.

  scripts/check_deploy.py [BINARY]   (BINARY: a built tastesync; its NEEDED libraries are checked)

Prints one line per check; exits 1 when any fails."""
import json
import pathlib
import re
import shutil
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def registered_metrics():
    names = set()
    for path in ROOT.glob("*/**/*.cpp"):
        if "build" in path.parts:
            continue
        names.update(re.findall(r'"(tastesync_[a-z_]+)"', path.read_text(errors="replace")))
    return names


def check_compose():
    path = DEPLOY / "compose.yaml"
    compose = yaml.safe_load(path.read_text())
    services = compose.get("services", {})
    check(set(services) >= {"kafka", "topics", "postgres", "redis", "migrate", "tastesync", "gen",
                            "prometheus", "grafana"}, "compose: every service of the stack")
    check(services["kafka"]["image"].startswith("apache/kafka:"),
          "compose: the official Apache Kafka image")
    env = services["kafka"]["environment"]
    check("controller" in env.get("KAFKA_PROCESS_ROLES", ""), "compose: Kafka in KRaft mode")
    check(env.get("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR") == "1",
          "compose: one-broker transaction log (exactly_once can start)")
    check(services["postgres"]["image"] == "postgres:15", "compose: PostgreSQL 15")
    check(services["redis"]["image"] == "redis:7", "compose: Redis 7")
    for name, service in services.items():
        for dependency in service.get("depends_on", {}) or {}:
            check(dependency in services, f"compose: {name} depends on an existing {dependency}")
    check(services["topics"]["command"] == ["topics", "create"], "compose: topics by `topics create`")
    check(services["tastesync"]["command"] == ["run"], "compose: the pipeline runs")
    check(services["gen"]["command"][0] == "gen", "compose: a generator so events flow")
    check("db migrate" in " ".join(services["migrate"]["command"]), "compose: db migrate")
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = [t for job in prometheus["scrape_configs"] for c in job["static_configs"]
               for t in c["targets"]]
    check("tastesync:9464" in targets, "prometheus: scrapes the pipeline's /metrics")
    for volume in services["grafana"]["volumes"]:
        source = volume.split(":")[0]
        check((DEPLOY / source).exists(), f"compose: grafana mounts an existing {source}")
    if shutil.which("docker-compose"):
        result = subprocess.run(["docker-compose", "-f", str(path), "config", "--quiet"],
                                capture_output=True, text=True)
        check(result.returncode == 0,
              "compose: `docker-compose config` accepts it" +
              ("" if result.returncode == 0 else ": " + result.stderr.strip()))
    else:
        print("skip  compose: docker-compose is not installed")


def check_dashboard(metrics):
    dashboard = json.loads((DEPLOY / "grafana/dashboards/tastesync.json").read_text())
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for topic in ["throughput", "lag", "drops", "dead letters", "latency", "sink lag"]:
        check(topic in titles, f"dashboard: a panel for {topic}")
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in re.findall(r"tastesync_[a-z_]+", target["expr"]):
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                check(base in metrics, f"dashboard: {name} is a metric the code registers")


def check_kubernetes():
    documents = [d for d in yaml.safe_load_all((DEPLOY / "k8s/tastesync.yaml").read_text()) if d]
    kinds = {d["kind"]: d for d in documents}
    check({"StatefulSet", "Service", "ConfigMap", "PodDisruptionBudget"} <= set(kinds),
          "k8s: StatefulSet, Service, ConfigMap and PodDisruptionBudget")
    stateful = kinds["StatefulSet"]
    container = stateful["spec"]["template"]["spec"]["containers"][0]
    check(container["readinessProbe"]["httpGet"]["path"] == "/readyz", "k8s: readiness on /readyz")
    check(container["livenessProbe"]["httpGet"]["path"] == "/healthz", "k8s: liveness on /healthz")
    budget = kinds["PodDisruptionBudget"]
    check(budget["spec"]["selector"]["matchLabels"] == stateful["spec"]["selector"]["matchLabels"],
          "k8s: the PodDisruptionBudget selects the StatefulSet's pods")
    check(budget["spec"].get("maxUnavailable") == 1, "k8s: one pod disrupted at a time")
    grace = stateful["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    check(grace > 20, "k8s: terminationGracePeriodSeconds above shutdown.timeout_ms (20 s)")


def runtime_packages(dockerfile):
    runtime = dockerfile.split("FROM debian:bookworm-slim", 1)[1]
    install = runtime.split("apt-get install", 1)[1].split("&&", 1)[0]
    return {word for word in install.replace("\\", " ").split() if not word.startswith("-")}


def check_dockerfile(binary):
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    check("HEALTHCHECK" in dockerfile and "/healthz" in dockerfile, "Dockerfile: HEALTHCHECK on /healthz")
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    check(bool(users) and users[-1] not in ("root", "0"), "Dockerfile: runs as a non-root user")
    runtime = runtime_packages(dockerfile)
    check(not any(p.endswith("-dev") for p in runtime), "Dockerfile: runtime stage without -dev packages")
    if binary is None:
        print("skip  Dockerfile: no binary given, its libraries are not checked")
        return
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        subprocess.run(["readelf", "-d", binary], capture_output=True,
                                       text=True, check=True).stdout)
    # The C and C++ runtimes are in every Debian image; the sanitizers only in the test build.
    base = {"libc6", "libstdc++6", "libgcc-s1"}
    for library in needed:
        if re.match(r"lib(asan|ubsan)\.", library):
            continue
        found = subprocess.run(["dpkg", "-S", library], capture_output=True, text=True)
        owners = {line.split(":")[0] for line in found.stdout.splitlines()
                  if re.search(r"/" + re.escape(library) + r"$", line)}
        ok = bool(owners & (runtime | base))
        check(ok, f"Dockerfile: {library} comes from a runtime package ({', '.join(sorted(owners)) or 'no package'})")


check_compose()
check_dashboard(registered_metrics())
check_kubernetes()
check_dockerfile(sys.argv[1] if len(sys.argv) > 1 else None)
if failures:
    print(f"check_deploy: {len(failures)} checks failed")
    sys.exit(1)
print("check_deploy: clean")
