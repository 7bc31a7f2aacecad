#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Read the JSON that tools/testing/kunit/kunit.py writes (run/parse --json).

  kunit_json.py counts FILE          "passed failed skipped errors" over all cases
  kunit_json.py status FILE SUFFIX   status of the last case whose name ends
                                     with SUFFIX, or MISSING
  kunit_json.py failed FILE          names of the cases that did not pass or skip

A missing or unreadable file counts as one error.
"""
import json
import sys


def cases(group):
    for case in group.get("test_cases", []):
        yield case
    for sub in group.get("sub_groups", []):
        yield from cases(sub)


def main(argv):
    if len(argv) < 3 or argv[1] not in ("counts", "status", "failed"):
        sys.stderr.write(__doc__)
        return 2
    try:
        with open(argv[2]) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        doc = None
    if argv[1] == "counts":
        n = {"PASS": 0, "FAIL": 0, "SKIP": 0, "ERROR": 0}
        if doc is None:
            n["ERROR"] = 1
        else:
            for case in cases(doc):
                status = case.get("status", "ERROR")
                n[status if status in n else "ERROR"] += 1
        print(n["PASS"], n["FAIL"], n["SKIP"], n["ERROR"])
    elif argv[1] == "status":
        found = [c.get("status") for c in cases(doc or {}) if c.get("name", "").endswith(argv[3])]
        print(found[-1] if found else "MISSING")
    else:
        for case in cases(doc or {}):
            if case.get("status") not in ("PASS", "SKIP"):
                print(case.get("name", "?"), case.get("status"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
