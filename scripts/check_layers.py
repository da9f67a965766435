#!/usr/bin/env python3
"""Fails when a folder includes one it must not (docs/design.md, "Layers").

Every project include names its folder from the root ("state/state_store.hpp"), so a file's
includes are its dependencies. ALLOWED below is the one place the graph is written; a folder may
always include itself. A test beside the code (*_test.cpp) may also use the test harnesses and
the dev cluster. `--mermaid` prints the graph for docs/design.md instead of checking.
"""
import re
import subprocess
import sys
from pathlib import Path

# folder: the folders it may include. Listed bottom-up.
ALLOWED = {
    "common": [],
    "stages": ["common"],
    "state": ["stages", "common"],
    "config": ["stages", "common"],
    "db": ["common"],
    "registry": ["stages", "config", "db", "common"],
    "kafka": ["config", "common"],
    "floor": ["common"],
    "http": ["floor", "config", "common"],
    "pipeline": ["stages", "state", "config", "registry", "kafka", "common"],
    "replay": ["pipeline", "stages", "state", "config", "registry", "kafka", "common"],
    "rpc": ["pipeline", "floor", "stages", "config", "kafka", "common"],
    "sinks/event": ["common"],
    "sinks/postgres": ["sinks/event", "db", "common"],
    "sinks/redis": ["sinks/event", "common"],
    "sinks": ["sinks/event", "sinks/postgres", "sinks/redis", "kafka", "db", "config", "common"],
    "tools/uji": ["stages", "config", "common"],
    "tools/sim": ["stages", "config", "registry", "common"],
    "app/dev": ["stages", "kafka", "common"],
    "app": ["*"],
}
# Folders that are not product code: they may use any product folder except the binary's own.
NOT_PRODUCT = ["tests", "bench"]
TEST_EXTRAS = ["tests/support", "app/dev"]

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(path, folders):
    """The longest listed folder that contains `path`, or None."""
    best = None
    for folder in folders:
        if path.startswith(folder + "/") and (best is None or len(folder) > len(best)):
            best = folder
    return best


def allowed(source, target):
    if source == target:
        return True
    deps = ALLOWED[source]
    return "*" in deps or target in deps


def check(root):
    files = subprocess.run(["git", "ls-files", "*.cpp", "*.hpp", "*.cpp.in"], cwd=root,
                           capture_output=True, text=True, check=True).stdout.split()
    product = list(ALLOWED)
    violations = []
    for path in files:
        if "/corpus/" in path:
            continue
        text = (root / path).read_text(errors="replace")
        for included in INCLUDE.findall(text):
            if "/" not in included:
                violations.append(f"{path}: \"{included}\" does not name its folder")
                continue
            target = folder_of(included, product + ["tests/support", "tests"])
            if target is None:
                continue  # bench/, tests/fuzz/ helpers: not product code
            source = folder_of(path, product)
            if source is None:
                if folder_of(path, NOT_PRODUCT) and target == "app":
                    violations.append(f"{path}: tests and benchmarks drive app/ as a process, "
                                      f"never by including \"{included}\"")
                continue
            if allowed(source, target):
                continue
            if path.endswith("_test.cpp") and target in TEST_EXTRAS:
                continue
            violations.append(f"{path}: {source}/ must not include \"{included}\" ({target}/)")
    return violations


def mermaid():
    print("```mermaid")
    print("flowchart BT")
    for source, deps in ALLOWED.items():
        for target in deps:
            if target == "*":
                print(f"  {source.replace('/', '_')}[{source}] --> everything")
            elif target != "common":
                print(f"  {source.replace('/', '_')}[{source}] --> "
                      f"{target.replace('/', '_')}[{target}]")
    print("```")


def main():
    root = Path(__file__).resolve().parent.parent
    if "--mermaid" in sys.argv:
        mermaid()
        return 0
    violations = check(root)
    for line in violations:
        print(line)
    if violations:
        print(f"check_layers: {len(violations)} include(s) against docs/design.md, \"Layers\"",
              file=sys.stderr)
        return 1
    print("check_layers: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
