#!/usr/bin/env python3
"""Prints the ninja targets (paths relative to BUILD_DIR) that the meson test
suite SUITE needs: each test's executable and what the test depends on.

    tools/suite_targets.py BUILD_DIR SUITE

tools/test.sh builds only these in the sanitizer build: building everything
there (the guest image, benches, examples) costs minutes and runs nothing.
"""
import json
import os
import subprocess
import sys


def introspect(build_dir, what):
    out = subprocess.run(["meson", "introspect", build_dir, what], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    build_dir, suite = sys.argv[1], sys.argv[2]
    files_of = {target["id"]: target["filename"] for target in introspect(build_dir, "--targets")}
    wanted = set()
    for test in introspect(build_dir, "--tests"):
        if not any(name.split(":")[-1] == suite for name in test["suite"]):
            continue
        wanted.add(test["cmd"][0])
        for dependency in test.get("depends", []):
            wanted.update(files_of.get(dependency, []))
    if not wanted:
        raise SystemExit(f"no tests in suite {suite!r} under {build_dir}")
    for path in sorted(wanted):
        print(os.path.relpath(path, build_dir))


if __name__ == "__main__":
    main()
