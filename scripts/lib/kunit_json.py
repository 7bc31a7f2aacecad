#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Read the JSON that tools/testing/kunit/kunit.py writes (run/parse --json).

  kunit_json.py counts FILE          "passed failed skipped errors" over all cases
  kunit_json.py status FILE SUFFIX   status of the last case whose name ends
                                     with SUFFIX, or MISSING
  kunit_json.py failed FILE          names of the cases that did not pass or skip
  kunit_json.py expect-fail FILE KTAP REGEX [EXCEPT...]
                                     every case but EXCEPT must have failed, and
                                     the diagnostic lines before its "not ok"
                                     in the raw KTAP must match REGEX; prints a
                                     line per case, exits 1 if one did not
  kunit_json.py caught FILE KTAP REGEX
                                     at least one case failed with diagnostic
                                     lines matching REGEX; prints those cases
  kunit_json.py skips FILE KTAP [CASE<TAB>REGEX...]
                                     every skipped case must be one of CASE,
                                     its "# SKIP" reason in the raw KTAP
                                     matching that CASE's REGEX; prints a
                                     line per skipped case, exits 1 if one
                                     is not allowed

A missing or unreadable file counts as one error.
"""
import json
import re
import sys

RESULT = re.compile(r"^\s*(not )?ok \d+ (.*?)(\s+#.*)?$")
SKIP = re.compile(r"^\s*ok \d+ (.*?)\s+# SKIP\s*(.*)$")


def reasons(ktap_path):
    """Map each failed case's name to the diagnostic lines printed before it."""
    found, lines = {}, []
    try:
        with open(ktap_path, errors="replace") as f:
            for line in f:
                m = RESULT.match(line)
                if not m:
                    lines.append(line.strip())
                    continue
                if m.group(1):
                    found[m.group(2)] = found.get(m.group(2), "") + "\n".join(lines)
                lines = []
    except OSError:
        pass
    return found


def expect_fail(doc, ktap_path, regex, excepted):
    why = reasons(ktap_path)
    bad = 0
    seen = 0
    for case in cases(doc or {}):
        name = case.get("name", "?")
        if name in excepted:
            continue
        seen += 1
        status = case.get("status")
        match = re.search(regex, why.get(name, ""))
        if status == "FAIL" and match:
            print("ok     %s: FAIL, %s" % (name, match.group(0)))
        else:
            bad += 1
            print("NOT OK %s: %s%s" % (name, status,
                                        "" if status != "FAIL" else ", not for /%s/" % regex))
    if not seen:
        print("NOT OK no case in the results")
        bad += 1
    return 1 if bad else 0


def caught(doc, ktap_path, regex):
    why = reasons(ktap_path)
    hits = 0
    for case in cases(doc or {}):
        name = case.get("name", "?")
        match = re.search(regex, why.get(name, ""))
        if case.get("status") == "FAIL" and match:
            hits += 1
            print("caught by %s: %s" % (name, match.group(0)))
    if not hits:
        print("NOT CAUGHT: no case failed with /%s/" % regex)
    return 0 if hits else 1


def skip_reasons(ktap_path):
    """Map each skipped case's name to the reason its "# SKIP" gives."""
    found = {}
    try:
        with open(ktap_path, errors="replace") as f:
            for line in f:
                m = SKIP.match(line)
                if m:
                    found[m.group(1)] = m.group(2).strip()
    except OSError:
        pass
    return found


def skips(doc, ktap_path, allowed):
    if doc is None:
        print("NOT OK no results to read")
        return 1
    why = skip_reasons(ktap_path)
    bad = 0
    for case in cases(doc or {}):
        if case.get("status") != "SKIP":
            continue
        name = case.get("name", "?")
        reason = why.get(name, "")
        regex = allowed.get(name)
        if regex is not None and re.search(regex, reason):
            print("ok     %s: SKIP, %s" % (name, reason))
        else:
            bad += 1
            print("NOT OK %s: SKIP (%s), %s" % (name, reason or "no reason",
                  "not a case that may skip" if regex is None
                  else "not for /%s/" % regex))
    return 1 if bad else 0


def cases(group):
    for case in group.get("test_cases", []):
        yield case
    for sub in group.get("sub_groups", []):
        yield from cases(sub)


def main(argv):
    if len(argv) < 3 or argv[1] not in ("counts", "status", "failed", "expect-fail", "caught",
                                            "skips"):
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
    elif argv[1] == "failed":
        for case in cases(doc or {}):
            if case.get("status") not in ("PASS", "SKIP"):
                print(case.get("name", "?"), case.get("status"))
    elif argv[1] == "skips":
        if len(argv) < 4:
            sys.stderr.write(__doc__)
            return 2
        allowed = {}
        for spec in argv[4:]:
            name, sep, regex = spec.partition("\t")
            if not sep:
                sys.stderr.write("kunit_json.py: skips: not CASE<TAB>REGEX: %r\n" % spec)
                return 2
            allowed[name] = regex
        return skips(doc, argv[3], allowed)
    else:
        if len(argv) < 5:
            sys.stderr.write(__doc__)
            return 2
        if argv[1] == "caught":
            return caught(doc, argv[3], argv[4])
        return expect_fail(doc, argv[3], argv[4], set(argv[5:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
