#!/usr/bin/env python3
"""Counts passed/failed/skipped from a gtest JSON report or provium --json output.

Prints "P F S" on stdout and lists every failure on stderr.
"""
import json
import sys
from pathlib import Path


def gtest(path):
    """`path` is one gtest JSON report or a directory of them."""
    paths = sorted(Path(path).glob("*.json")) if Path(path).is_dir() else [Path(path)]
    passed = failed = skipped = 0
    for report_path in paths:
        p, f, s = gtest_report(json.load(open(report_path)))
        passed, failed, skipped = passed + p, failed + f, skipped + s
    return passed, failed, skipped


def gtest_report(report):
    passed = failed = skipped = 0
    for suite in report.get("testsuites", []):
        for case in suite.get("testsuite", []):
            if case.get("result") == "SKIPPED" or case.get("status") == "NOTRUN":
                skipped += 1
            elif case.get("failures"):
                failed += 1
            else:
                passed += 1
    return passed, failed, skipped


def provium(path):
    passed = failed = skipped = 0
    lines = [l for l in open(path) if l.startswith("{")]
    if not lines:
        print(f"{path}: provium reported no files", file=sys.stderr)
        return 0, 1, 0
    for line in lines:
        obj = json.loads(line)
        if obj.get("chunk_error") or obj.get("status") in ("crashed", "timed_out"):
            print(f"FILE {obj['path']}: {obj.get('status')} {obj.get('chunk_error')}", file=sys.stderr)
            failed += 1
        for test in obj.get("tests", []):
            if test["status"] == "passed":
                passed += 1
            elif test["status"] == "skipped":
                skipped += 1
            else:
                failed += 1
                print(f"FAIL {obj['path']}: {test['name']}: {test.get('message')}", file=sys.stderr)
    return passed, failed, skipped


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    p, f, s = gtest(path) if kind == "gtest" else provium(path)
    print(p, f, s)
