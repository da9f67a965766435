#!/usr/bin/env python3
"""Prints, for each test that failed in ctest's last run, its failed assertions and the end of its
output, so that the end of a CI log says why it failed (docs/design.md#ci-time).

ctest --output-on-failure prints a failing test's output when it ends, which can be hundreds of
lines before the end of the log; whoever reads only the tail sees the test's name and nothing
else. This reads Testing/Temporary/LastTest.log and prints a bounded digest.

usage: failure_digest.py BUILD_DIR
"""
import pathlib
import re
import sys

# Lines kept per failed test, so that a test printing megabytes cannot flood the log.
MAX_LINES = 120
CONTEXT_AFTER = 24
TAIL = 15
FAILURE = re.compile(r"Failure$|: Failure|^\[  FAILED  \]|ERROR: AddressSanitizer|runtime error:")


def blocks(log: str):
    """Yields (name, output lines, passed) for each test in a LastTest.log."""
    for block in re.split(r"^(?=\d+/\d+ Testing: )", log, flags=re.M):
        header = re.search(r"^\d+/\d+ Testing: (.+)$", block, re.M)
        if not header:
            continue
        output = block.split("Output:\n" + "-" * 58 + "\n", 1)[-1]
        output = output.split("<end of output>", 1)[0]
        yield header.group(1).strip(), output.splitlines(), "Test Passed." in block


def digest(lines: list[str]) -> list[str]:
    keep: set[int] = set()
    for index, line in enumerate(lines):
        if FAILURE.search(line):
            keep.update(range(index, min(len(lines), index + CONTEXT_AFTER)))
    keep.update(range(max(0, len(lines) - TAIL), len(lines)))
    out: list[str] = []
    previous = -1
    for index in sorted(keep):
        if index != previous + 1:
            out.append("    ...")
        out.append("    " + lines[index][:400])
        previous = index
    if len(out) > MAX_LINES:
        out = out[: MAX_LINES - TAIL] + ["    ... (cut)"] + out[-TAIL:]
    return out


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    log_path = pathlib.Path(sys.argv[1]) / "Testing" / "Temporary" / "LastTest.log"
    if not log_path.exists():
        print(f"failure_digest: no {log_path}")
        return 0
    failed = [(name, lines) for name, lines, passed in
              blocks(log_path.read_text(errors="replace")) if not passed]
    for name, lines in failed:
        print(f"failure_digest: {name}")
        print("\n".join(digest(lines)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
