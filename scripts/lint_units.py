#!/usr/bin/env python3
"""Prints what scripts/lint.sh hands clang-tidy: one line per unit, "<checks> <file>".

The lint build is a unity build (docs/design.md#ci-time): each product target's sources are one
generated file that includes them, so the headers they share are parsed once per target rather
than once per source. Test targets, tests/ and the generated protobuf code are left out, as
before. A source kept out of its target's unity file (SKIP_UNITY_BUILD_INCLUSION) is its own
unit. The generated file sits under the build directory, where no folder's .clang-tidy is found,
so the checks a folder adds (the path analyzer) are passed on the command line.
"""
import json
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
build = Path(sys.argv[1]).resolve()
# The generated file includes sources by path: this check would flag every line of it.
base = "-bugprone-suspicious-include"

for entry in json.loads((build / "compile_commands.json").read_text()):
    source = Path(entry["file"])
    if "Unity" in source.parts:
        folder, _, target = str(source.relative_to(build)).partition("/CMakeFiles/")
        target = target.split("/")[0]
        if target.endswith("_test.dir") or folder.split("/")[0] in ("tests", "proto"):
            continue
        folder_config = root / folder / ".clang-tidy"
        adds_analyzer = folder_config.exists() and "clang-analyzer" in folder_config.read_text()
        print(base + (",clang-analyzer-*" if adds_analyzer else ""), source)
    elif build not in source.parents and root in source.parents:
        relative = source.relative_to(root)
        if not source.name.endswith("_test.cpp") and relative.parts[0] != "tests":
            print(base, source)
