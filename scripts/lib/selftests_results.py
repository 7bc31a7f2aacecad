#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Results of scripts/mm-selftests.sh.

  selftests_results.py parse CONSOLE DIR KUNIT_PY SPLAT_RE PLAN_LINE...
      Read one guest's console: for each line of the plan ("seconds flags
      binary [args]"), its exit status (selftests-init.c's
      "forkfix-selftest:" line), its output (DIR/tests/NN-binary.log) and,
      when it prints KTAP (as the kernel's parser, KUNIT_PY parse --json,
      finds), the counts of its result lines (a kselftest "ok N # SKIP"
      has no description and the parser counts it an error; its counts
      are kept as "parser") and the test's own "# Totals:" line; the console's
      splats (lines matching SPLAT_RE, an extended regex), each with the
      test it came during; kmemleak's count.  Prints JSON.
  selftests_results.py judge RESULTS TREE ARCHES VARIANTS MUST_RUN
      Read RESULTS/<variant>/<arch>/results.json, print the PASS/FAIL lines
      and "N passed, N failed", write RESULTS/table.md.  ARCHES, VARIANTS
      and MUST_RUN are comma separated (MUST_RUN may be empty).

A test passes on exit 0, is skipped on exit 4 (KSFT_SKIP) or when every
case its KTAP reports skipped, and fails otherwise (another exit code, a
signal, the time limit).
"""
import json
import os
import re
import subprocess
import sys

# The markers may share a console line with what another CPU printed.
START = re.compile(r"forkfix-selftest-start: (\d+) ")
END = re.compile(r"forkfix-selftest: n=(\d+) name=(\S+) status=(\S+) seconds=([0-9.]+)")
RANK = {"pass": 2, "skip": 1, "fail": 0, "not run": 0}
TOTALS = re.compile(r"^# Totals: pass:(\d+) fail:(\d+) xfail:(\d+) xpass:(\d+) skip:(\d+) error:(\d+)")
KTAP_START = re.compile(r"^(TAP version \d+|KTAP version \d+|1\.\.\d+)\s*$", re.M)
SKIP_LINE = re.compile(r"^(?!# Totals).*skip", re.I)
FAIL_LINE = re.compile(r"^(not ok|.*\bFAIL|.*\berror\b|.*Bail out|.*failed)", re.I)


def ktap_counts(kunit_py, text, json_path):
    """passed, failed, skipped, errors of the kernel's KTAP parser, or None."""
    if not KTAP_START.search(text):
        return None
    try:
        if os.path.exists(json_path):
            os.unlink(json_path)
        subprocess.run([sys.executable, kunit_py, "parse", "--json=" + json_path],
                       input=text.encode(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300, check=False)
        with open(json_path) as f:
            doc = json.load(f)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    counts = [0, 0, 0, 0]

    def walk(group):
        for case in group.get("test_cases", []):
            status = case.get("status")
            if status == "PASS":
                counts[0] += 1
            elif status == "FAIL":
                counts[1] += 1
            elif status == "SKIP":
                counts[2] += 1
            else:
                counts[3] += 1
        for sub in group.get("sub_groups", []):
            walk(sub)

    walk(doc)
    return counts


RESULT_LINE = re.compile(r"^(not )?ok \d+\b(.*)$")


def raw_counts(lines):
    """passed, failed, skipped, 0 from the KTAP result lines themselves:
    kselftest prints a skipped case as "ok N # SKIP reason", with no
    description, which the kernel's parser reads as an error."""
    counts = [0, 0, 0, 0]
    for line in lines:
        m = RESULT_LINE.match(line.strip())
        if not m:
            continue
        directive = m.group(2).partition("#")[2].strip().upper()
        if directive.startswith("SKIP"):
            counts[2] += 1
        elif m.group(1) and not directive.startswith("XFAIL"):
            counts[1] += 1
        else:
            counts[0] += 1
    return counts


def last_match(lines, regex):
    for line in reversed(lines):
        if regex.search(line):
            return line.strip()[:160]
    for line in reversed(lines):
        if line.strip():
            return line.strip()[:160]
    return ""


KMEMLEAK_OBJECT = re.compile(r"unreferenced object 0x[0-9a-f]+ \(size (\d+)\)")
# A frame: "[<addr>] func+0x1/0x2" on old kernels, "func+0x1/0x2" since
# kmemleak keeps its traces in the stack depot.
KMEMLEAK_FRAME = re.compile(r"(?:^|[\s>\]])([A-Za-z_][A-Za-z0-9_.]*)\+0x[0-9a-f]+/0x[0-9a-f]+")


def kmemleak_objects(lines):
    """Each object kmemleak reported: its size and the first four
    functions of its allocation's backtrace, as "SIZE FUNC<FUNC<...",
    sorted.  The same allocation site leaking on the base and with the
    series gives the same word."""
    found, current = [], None
    for line in lines:
        m = KMEMLEAK_OBJECT.search(line)
        if m:
            if current:
                found.append(current)
            current = [m.group(1), []]
            continue
        m = KMEMLEAK_FRAME.search(line)
        if current and m and len(current[1]) < 4:
            current[1].append(m.group(1))
    if current:
        found.append(current)
    return sorted("%s %s" % (size, "<".join(frames)) for size, frames in found)


def new_objects(base, series):
    """The objects of SERIES that BASE does not have as many times."""
    left = list(base or [])
    extra = []
    for obj in series or []:
        if obj in left:
            left.remove(obj)
        else:
            extra.append(obj)
    return extra


def parse(console, out, kunit_py, splat_re, plan):
    with open(console, errors="replace") as f:
        lines = [l.rstrip("\r\n") for l in f]
    os.makedirs(os.path.join(out, "tests"), exist_ok=True)
    splat = re.compile(splat_re)
    starts, ends = {}, {}
    for i, line in enumerate(lines):
        m = START.search(line)
        if m:
            starts[int(m.group(1))] = i
        m = END.search(line)
        if m:
            ends[int(m.group(1))] = (i, m)
    runs = []
    for n, entry in enumerate(plan, 1):
        words = entry.split()
        name, args = words[2], " ".join(words[3:])
        run = {"n": n, "name": name, "args": args, "status": "not run", "result": "not run",
               "reason": "the guest never reached it", "seconds": None, "ktap": None, "parser": None,
               "totals": None, "splats": 0}
        if n in starts:
            first = starts[n] + 1
            last = ends[n][0] if n in ends else len(lines)
            seg = lines[first:last]
            log = os.path.join(out, "tests", "%02d-%s.log" % (n, name))
            with open(log, "w") as f:
                f.write("\n".join(seg) + "\n")
            text = "\n".join(seg) + "\n"
            # The kernel's parser says whether it is KTAP and how many
            # results; the counts come from the result lines (above).
            run["parser"] = ktap_counts(kunit_py, text, log[:-4] + ".json")
            if run["parser"] is not None:
                run["ktap"] = raw_counts(seg)
            for line in seg:
                m = TOTALS.match(line)
                if m:
                    run["totals"] = "pass:%s fail:%s xfail:%s xpass:%s skip:%s error:%s" % m.groups()
            run["splats"] = sum(1 for line in seg if splat.search(line))
            if n not in ends:
                run.update(status="no end", result="fail",
                           reason="no exit status: the guest died or hung in it")
            else:
                m = ends[n][1]
                status = m.group(3)
                run["status"], run["seconds"] = status, float(m.group(4))
                if status == "exit:0":
                    k = run["ktap"]
                    if k and k[0] == 0 and k[1] == 0 and k[2] > 0:
                        run.update(result="skip", reason="every case skipped (%d): %s"
                                   % (k[2], last_match(seg, SKIP_LINE)))
                    else:
                        run.update(result="pass", reason="")
                elif status == "exit:4":
                    run.update(result="skip", reason=last_match(seg, SKIP_LINE))
                elif status == "exit:127" and any("forkfix: exec " in l for l in seg):
                    run.update(result="fail", reason="not started: " + last_match(seg, re.compile("forkfix: exec")))
                    run["infra"] = True
                elif status == "timeout":
                    run.update(result="fail", reason="time limit (%s s) reached: %s"
                               % (words[0], last_match(seg, FAIL_LINE)))
                else:
                    run.update(result="fail", reason="%s: %s" % (status, last_match(seg, FAIL_LINE)))
        runs.append(run)
    # Splats, each with the run it came during.
    splats = []
    owner = sorted((starts[n], n) for n in starts)
    for i, line in enumerate(lines):
        if splat.search(line) and not line.startswith("forkfix"):
            during = None
            for pos, n in owner:
                if pos <= i:
                    during = n
            splats.append({"line": line.strip()[:200], "during": during})
    leaks = None
    done = False
    objects = kmemleak_objects(lines)
    for line in lines:
        m = re.match(r"^forkfix: kmemleak objects=(\d+)", line)
        if m:
            leaks = int(m.group(1))
        if line.startswith("forkfix: forkfix-selftests-done"):
            done = True
    json.dump({"runs": runs, "splats": splats, "kmemleak": leaks,
               "kmemleak_objects": objects, "done": done}, sys.stdout,
              indent=1)
    print()


def cell(run):
    if run is None:
        return "-"
    r = run["result"]
    k = run["ktap"]
    if r == "pass":
        text = "pass"
        if k:
            text += " (%d/%d/%d)" % (k[0], k[1], k[2])
    else:
        text = "%s: %s" % (r, run["reason"].replace("|", "/"))
    if run["splats"]:
        text += " [%d splat lines]" % run["splats"]
    if run["seconds"] is not None:
        text += " %.0fs" % run["seconds"]
    return text


def judge(results, tree, arches, variants, must):
    passed = failed = 0

    def report(ok, text):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
        print("%s  %s" % ("PASS" if ok else "FAIL", text))

    docs = {}
    for arch in arches:
        for v in variants:
            path = os.path.join(results, v, arch, "results.json")
            try:
                with open(path) as f:
                    docs[(v, arch)] = json.load(f)
            except (OSError, ValueError):
                docs[(v, arch)] = None
    label = {"base": "base", "patched": "series"}
    for arch in arches:
        for v in variants:
            doc = docs[(v, arch)]
            if doc is None:
                report(False, "%s %s %s: no results" % (tree, label[v], arch))
                continue
            missing = [r["name"] for r in doc["runs"] if r["result"] == "not run" or r["status"] == "no end"]
            report(doc["done"] and not missing,
                   "%s %s %s: the guest ran the %d runs of the plan to the end%s" %
                   (tree, label[v], arch, len(doc["runs"]),
                    " (not run or unfinished: %s)" % " ".join(missing) if missing else ""))
            counts = {}
            for r in doc["runs"]:
                counts[r["result"]] = counts.get(r["result"], 0) + 1
            print("      %s %s %s: %s; kmemleak objects %s; splat lines %d" %
                  (tree, label[v], arch, ", ".join("%s %d" % kv for kv in sorted(counts.items())),
                   doc["kmemleak"], len(doc["splats"])))
        doc = docs.get(("patched", arch))
        if doc is not None:
            for s in doc["splats"][:8]:
                print("      splat during run %s: %s" % (s["during"], s["line"]))
            report(not doc["splats"], "%s series %s: no splat in the console (%d lines)" %
                   (tree, arch, len(doc["splats"])))
            if must:
                bad = []
                for name in must:
                    rs = [r for r in doc["runs"] if r["name"] == name]
                    if not rs or any(r["result"] in ("skip", "not run") for r in rs):
                        bad.append(name)
                report(not bad, "%s series %s: %s run, none skipped%s" %
                       (tree, arch, " ".join(must), " (skipped or absent: %s)" % " ".join(bad) if bad else ""))
        base, series = docs.get(("base", arch)), docs.get(("patched", arch))
        for v, doc in (("base", base), ("patched", series)):
            if doc is None:
                continue
            infra = [r["name"] for r in doc["runs"] if r.get("infra")]
            report(not infra, "%s %s %s: every binary of the plan started%s" %
                   (tree, label[v], arch, " (not: %s)" % " ".join(infra) if infra else ""))
        if base is not None and series is not None:
            worse = []
            for b, s in zip(base["runs"], series["runs"]):
                if RANK[s["result"]] < RANK[b["result"]]:
                    worse.append("%s %s: %s; base %s" % (s["name"], s["args"], cell(s), cell(b)))
                elif b["ktap"] and s["ktap"] and s["ktap"][1] > b["ktap"][1]:
                    worse.append("%s %s: %d KTAP failures, base %d" %
                                 (s["name"], s["args"], s["ktap"][1], b["ktap"][1]))
                elif s["result"] == "fail" and b["result"] == "fail":
                    print("      fails on the base and with the series: %s %s: %s"
                          % (s["name"], s["args"], s["reason"]))
            for w in worse:
                print("      worse with the series: %s" % w)
            report(not worse, "%s %s: no run does worse with the series than on the base "
                   "(pass > skip > fail)" % (tree, arch))
            bl, sl = base["kmemleak"], series["kmemleak"]
            # Compared object by object (size and allocation site), not
            # by count: the series may not leak where the base does not.
            extra = new_objects(base.get("kmemleak_objects"), series.get("kmemleak_objects"))
            for obj in extra:
                print("      kmemleak object with the series only: %s" % obj)
            report(sl is not None and (sl == 0 or (bl is not None and not extra)),
                   "%s %s: kmemleak objects with the series %s, base %s, %d not on the base"
                   % (tree, arch, sl, bl, len(extra)))
        elif series is not None:
            sl = series["kmemleak"]
            report(sl == 0, "%s series %s: kmemleak objects %s" % (tree, arch, sl))
    # The table.
    cols = [(a, v) for a in arches for v in variants]
    out = ["| # | test | arguments | " + " | ".join("%s %s" % (a, label[v]) for a, v in cols) + " |",
           "|---|---|---|" + "---|" * len(cols)]
    first = next((d for d in docs.values() if d), None)
    if first:
        for i, r in enumerate(first["runs"]):
            row = []
            for a, v in cols:
                d = docs[(v, a)]
                match = None
                if d:
                    match = next((x for x in d["runs"] if x["name"] == r["name"] and x["args"] == r["args"]), None)
                row.append(cell(match))
            out.append("| %d | %s | %s | %s |" % (i + 1, r["name"], r["args"] or "", " | ".join(row)))
    with open(os.path.join(results, "table.md"), "w") as f:
        f.write("\n".join(out) + "\n")
    print("\n".join(out))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def main(argv):
    if len(argv) >= 6 and argv[1] == "parse":
        parse(argv[2], argv[3], argv[4], argv[5], argv[6:])
        return 0
    if len(argv) == 7 and argv[1] == "judge":
        split = lambda s: [x for x in s.split(",") if x]
        return judge(argv[2], argv[3], split(argv[4]), split(argv[5]), split(argv[6]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
