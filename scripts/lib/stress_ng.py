#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Helpers of scripts/stress-ng.sh.

  stress_ng.py blocks IMAGE OUT
      the blocks of a file system image that are not all zeroes, in the
      format scripts/guest/stress-init.c writes to its RAM disk
  stress_ng.py closure SYSROOT BINARY
      the ELF interpreter and the DT_NEEDED closure of BINARY inside
      SYSROOT (an unpacked Debian root): "guest-path host-file" lines
  stress_ng.py parse CONSOLE SPLAT_RE
      the guest's console as JSON: phases, stress-ng's metrics, the
      kernel's counts, splats, kmemleak
  stress_ng.py judge RESULTS TREE ARCHES VARIANTS
      PASS/FAIL lines and table.md from RESULTS/<variant>/<arch>/results.json
"""
import json
import os
import re
import struct
import subprocess
import sys

BLOCK = 4096


def blocks(image, out):
    zero = bytes(BLOCK)
    n = 0
    with open(image, "rb") as src, open(out + ".tmp", "wb") as dst:
        off = 0
        while True:
            data = src.read(BLOCK)
            if not data:
                break
            if data != zero[:len(data)]:
                dst.write(struct.pack("<QI", off, len(data)))
                dst.write(data)
                n += 1
            off += len(data)
    os.replace(out + ".tmp", out)
    print("%d blocks of %d bytes" % (n, BLOCK))


def readelf(path, opt):
    try:
        return subprocess.run(["readelf", "-W", opt, path], check=True, capture_output=True,
                              text=True).stdout
    except subprocess.CalledProcessError as e:
        sys.exit("stress_ng.py: readelf %s %s failed: %s" % (opt, path, e.stderr.strip()))


def inside(root, path, depth=0):
    """PATH (absolute, in the guest) resolved inside ROOT: the host file."""
    if depth > 20:
        return None
    parts = [p for p in path.split("/") if p]
    cur = "/"
    for i, part in enumerate(parts):
        nxt = os.path.join(cur, part)
        host = root + nxt
        if os.path.islink(host):
            target = os.readlink(host)
            if not target.startswith("/"):
                target = os.path.normpath(os.path.join(cur, target))
            rest = "/".join(parts[i + 1:])
            return inside(root, target + ("/" + rest if rest else ""), depth + 1)
        if not os.path.exists(host):
            return None
        cur = nxt
    return root + cur


def closure(root, binary):
    root = os.path.abspath(root)
    head = readelf(binary, "-l")
    m = re.search(r"Requesting program interpreter: ([^\]]+)\]", head)
    if not m:
        sys.exit("stress_ng.py: %s has no ELF interpreter" % binary)
    interp = m.group(1)
    triplet = os.path.basename(os.path.dirname(inside(root, interp) or "/x/none"))
    dirs = ["/lib/" + triplet, "/usr/lib/" + triplet, "/lib", "/usr/lib"]
    found = {interp: inside(root, interp)}
    if not found[interp]:
        sys.exit("stress_ng.py: the interpreter %s is not in %s" % (interp, root))
    todo = [binary]
    seen = set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        for name in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf(f, "-d")):
            if any(os.path.basename(g) == name for g in found):
                continue
            for d in dirs:
                host = inside(root, d + "/" + name)
                if host and os.path.isfile(host):
                    found[d + "/" + name] = host
                    todo.append(host)
                    break
            else:
                sys.exit("stress_ng.py: %s needs %s, which no package of %s has"
                         % (os.path.basename(f), name, root))
    for guest, host in sorted(found.items()):
        print(guest, host)


def parse(console, splat_re):
    splat = re.compile(splat_re)
    # Expected under fault injection, counted apart: a user fault whose
    # page-table allocation failed, the OOM killer.
    noise = re.compile(r"Huh VM_FAULT_OOM leaked|invoked oom-killer")
    pre = re.compile(r"^(?:\[[ 0-9.]+\] )?(?:forkfix: )?")
    doc = {"phases": {}, "splats": [], "noise": {}, "kmemleak": None, "done": False,
           "fail_lines": []}
    phase = "boot"
    with open(console, "rb") as f:
        lines = [ln.decode("utf-8", "replace").rstrip("\r\n") for ln in f]
    for raw in lines:
        line = pre.sub("", raw, count=1)
        m = re.match(r"^forkfix-stress-phase: ([\w-]+) (start|end)(?: status=(\S+) seconds=([\d.]+))?", line)
        if m:
            p = doc["phases"].setdefault(m.group(1), {
                "status": None, "seconds": None, "yaml": [], "log": [],
                "count": {}, "hist": {}, "profile": {}})
            if m.group(2) == "start":
                phase = m.group(1)
            else:
                p["status"], p["seconds"] = m.group(3), float(m.group(4))
                phase = "after-" + m.group(1)
            continue
        m = re.match(r"^forkfix-stress-(yaml|log): ([\w-]+) ?(.*)$", line)
        if m and m.group(2) in doc["phases"]:
            doc["phases"][m.group(2)][m.group(1)].append(m.group(3))
            continue
        m = re.match(r"^forkfix-stress-count: ([\w-]+) (before|after) (\w+) (-?\d+)", line)
        if m:
            ph = doc["phases"].setdefault(m.group(1), {
                "status": None, "seconds": None, "yaml": [], "log": [],
                "count": {}, "hist": {}, "profile": {}})
            ph["count"].setdefault(m.group(3), {})[m.group(2)] = int(m.group(4))
            continue
        m = re.match(r"^forkfix-stress-hist: ([\w-]+) (before|after) (\w+) (.*)$", line)
        if m:
            ph = doc["phases"].setdefault(m.group(1), {
                "status": None, "seconds": None, "yaml": [], "log": [],
                "count": {}, "hist": {}, "profile": {}})
            ph["hist"].setdefault(m.group(3), {}).setdefault(m.group(2), []).append(m.group(4))
            continue
        m = re.match(r"^forkfix-stress-profile: ([\w-]+) (before|after)\s+(?:forkfix/)?(\w+)\s+(\d+)\s+(\d+)", line)
        if m:
            ph = doc["phases"].setdefault(m.group(1), {
                "status": None, "seconds": None, "yaml": [], "log": [],
                "count": {}, "hist": {}, "profile": {}})
            ph["profile"].setdefault(m.group(3), {})[m.group(2)] = [int(m.group(4)), int(m.group(5))]
            continue
        if line.startswith("FAIL "):
            doc["fail_lines"].append(line)
        m = re.match(r"^kmemleak objects=(\d+)", line)
        if m:
            doc["kmemleak"] = int(m.group(1))
        if line.startswith("forkfix-stress-done"):
            doc["done"] = True
        if line.startswith("forkfix-stress-"):
            continue
        if noise.search(raw) and phase.startswith("inject-"):
            k = noise.search(raw).group(0)
            doc["noise"].setdefault(phase, {}).setdefault(k, 0)
            doc["noise"][phase][k] += 1
        elif splat.search(raw):
            doc["splats"].append({"phase": phase, "line": raw})
    for name, ph in doc["phases"].items():
        ph["metrics"] = metrics(ph["yaml"])
        ph["forks"] = hist_delta(ph["hist"].get("copy_process", {}))
        ph["dup_mmap"] = hist_delta(ph["hist"].get("dup_mmap", {}))
        ph["injected"] = {}
        for k in ("failslab_times", "fail_page_alloc_times"):
            c = ph["count"].get(k, {})
            if "before" in c and "after" in c:
                ph["injected"][k[:-6]] = c["before"] - c["after"]
        c = ph["count"].get("processes", {})
        ph["processes"] = c["after"] - c["before"] if "before" in c and "after" in c else None
        ph["missed"] = {ev: v["after"][1] - v["before"][1]
                        for ev, v in ph["profile"].items() if "before" in v and "after" in v}
        ph["leftovers"] = {k: ph["count"].get(k, {}).get("after")
                           for k in ("leftover_tasks", "leftover_swaps")}
    json.dump(doc, sys.stdout, indent=1)
    print()


def metrics(yaml):
    """stress-ng's YAML "metrics:" list: {stressor: bogo-ops}."""
    out, cur, inside_metrics = {}, None, False
    for ln in yaml:
        if re.match(r"^metrics:", ln):
            inside_metrics = True
            continue
        if inside_metrics and re.match(r"^\S", ln):
            inside_metrics = False
        if not inside_metrics:
            continue
        m = re.match(r"^\s*-\s*stressor:\s*(\S+)", ln)
        if m:
            cur = m.group(1)
            continue
        m = re.match(r"^\s*bogo-ops:\s*(\d+)", ln)
        if m and cur:
            out[cur] = int(m.group(1))
    return out


def hist_sections(lines):
    """The hist file's triggers: [(trigger info, {key: hitcount}, dropped)]."""
    secs = []
    for ln in lines:
        m = re.match(r"^# trigger info: (.*)$", ln)
        if m:
            secs.append([m.group(1), {}, 0])
            continue
        m = re.match(r"^\{\s*(\w+):\s*(-?\d+)\s*\}\s*hitcount:\s*(\d+)", ln)
        if m and secs:
            key = int(m.group(2))
            if key >= 1 << 63:
                key -= 1 << 64
            secs[-1][1][key] = int(m.group(3))
            continue
        m = re.match(r"^\s*Dropped:\s*(\d+)", ln)
        if m and secs:
            secs[-1][2] = int(m.group(1))
    return secs


def hist_delta(h):
    """{"calls": n, "errors": {errno: n}, "dropped": n} between before and
    after; None where a snapshot is missing."""
    res = {"calls": None, "errors": None, "dropped": None}
    if not h.get("before") or not h.get("after"):
        return res
    before = {info: counts for info, counts, _ in hist_sections(h["before"])}
    res["errors"], res["dropped"] = {}, 0
    for info, counts, dropped in hist_sections(h["after"]):
        old = before.get(info)
        if old is None:
            return {"calls": None, "errors": None, "dropped": None}
        res["dropped"] += dropped
        if "keys=common_cpu" in info:
            res["calls"] = sum(counts.values()) - sum(old.values())
        elif "keys=ret" in info:
            for k, v in counts.items():
                d = v - old.get(k, 0)
                if d:
                    res["errors"][str(k)] = d
    return res


ERRNO = {-12: "ENOMEM", -11: "EAGAIN", -4: "EINTR", -513: "ERESTARTNOINTR", -1: "EPERM",
         -22: "EINVAL", -28: "ENOSPC", -514: "ERESTARTNOHAND", -512: "ERESTARTSYS"}


def errs(e):
    if e is None:
        return "-"
    if not e:
        return "0"
    parts = ["%s %d" % (ERRNO.get(int(k), k), v) for k, v in sorted(e.items(), key=lambda kv: -kv[1])]
    return "%d (%s)" % (sum(e.values()), ", ".join(parts))


def judge(results, tree, arches, variants):
    arches, variants = arches.split(","), variants.split(",")
    docs, fails, passes = {}, [], []

    def check(ok, what):
        (passes if ok else fails).append(what)
        print("%s %s" % ("PASS" if ok else "FAIL", what))

    for v in variants:
        for a in arches:
            p = os.path.join(results, v, a, "results.json")
            try:
                with open(p) as f:
                    docs[(v, a)] = json.load(f)
            except (OSError, ValueError) as e:
                docs[(v, a)] = None
                check(False, "%s %s %s: no results (%s)" % (tree, v, a, e))
    for (v, a), d in docs.items():
        if d is None:
            continue
        tag = "%s %s %s" % (tree, v, a)
        groups = plan_groups(os.path.join(results, v, a, "plan"))
        check(d["done"] and not d["fail_lines"],
              "%s: the guest set up and ran to its end%s" % (tag, "" if not d["fail_lines"]
                                                             else ": " + d["fail_lines"][0]))
        want = ["%s-%s" % (m, g) for m in ("clean", "inject") for g in groups]
        check(groups and sorted(d["phases"]) == sorted(want),
              "%s: every group ran in both phases (%s)" % (tag, " ".join(sorted(d["phases"])) or "none"))
        for name in want:
            ph = d["phases"].get(name)
            if ph is None:
                continue
            st = ph["status"] or "none"
            mode, group = name.split("-", 1)
            check(st.startswith("exit:") and st not in ("exit:126", "exit:127"),
                  "%s: %s ended by itself (%s)" % (tag, name, st))
            ran = {k: ph["metrics"].get(k) for k in groups[group]}
            forks, dm = ph["forks"], ph["dup_mmap"]
            exact = [k for k, val in (("copy_process missed", ph["missed"].get("copy_process")),
                                       ("dup_mmap missed", ph["missed"].get("dup_mmap")),
                                       ("copy_process dropped", forks["dropped"]),
                                       ("dup_mmap dropped", dm["dropped"])) if val != 0]
            check(not exact and forks["calls"] is not None and dm["calls"] is not None,
                  "%s: %s: every copy_process() and dup_mmap() return counted (%s)"
                  % (tag, name, ", ".join(exact) or "0 missed, 0 dropped"))
            check((forks["calls"] or 0) > 0,
                  "%s: %s: stress-ng's tasks called copy_process() (%s)" % (tag, name, forks["calls"]))
            inj = ph["injected"]
            nomem = (forks["errors"] or {}).get("-12", 0) + (dm["errors"] or {}).get("-12", 0)
            if mode == "clean":
                check(st == "exit:0", "%s: %s: stress-ng exits 0 (%s)" % (tag, name, st))
                check(all(ran.values()), "%s: %s: every stressor made progress (bogo-ops %s)"
                      % (tag, name, ", ".join("%s %s" % kv for kv in ran.items())))
                check(inj.get("failslab") == 0 and inj.get("fail_page_alloc") == 0 and nomem == 0,
                      "%s: %s: nothing injected, no ENOMEM from copy_process() or dup_mmap() "
                      "(injected %s, ENOMEM %d)" % (tag, name, inj, nomem))
            else:
                check(all(val is not None for val in ran.values()),
                      "%s: %s: every stressor reported (bogo-ops %s)"
                      % (tag, name, ", ".join("%s %s" % kv for kv in ran.items())))
                check((inj.get("failslab") or 0) + (inj.get("fail_page_alloc") or 0) > 0,
                      "%s: %s: failures were injected (%s)" % (tag, name, inj))
        inject = [n for n in want if n.startswith("inject-") and n in d["phases"]]
        fk = sum((d["phases"][n]["forks"]["errors"] or {}).get("-12", 0) for n in inject)
        dm = sum((d["phases"][n]["dup_mmap"]["errors"] or {}).get("-12", 0) for n in inject)
        check(fk > 0 and dm > 0,
              "%s: injected failures made forks fail with ENOMEM (%d), in dup_mmap() too (%d)"
              % (tag, fk, dm))
        if v == "patched":
            check(not d["splats"], "%s: no splat (%d lines%s)" % (
                tag, len(d["splats"]), "; first: " + d["splats"][0]["line"] if d["splats"] else ""))
            check(d["kmemleak"] == 0, "%s: kmemleak objects: %s" % (tag, d["kmemleak"]))
    write_table(results, tree, arches, variants, docs)
    print("%d passed, %d failed" % (len(passes), len(fails)))
    return 1 if fails else 0


def plan_groups(path):
    """The plan's groups: {name: [stressor, ...]} ("arg --X" then "arg 1")."""
    groups, cur, prev = {}, None, None
    try:
        with open(path) as f:
            for ln in f:
                ln = ln.strip()
                if ln.startswith("group "):
                    cur = groups.setdefault(ln[6:], [])
                elif ln == "arg 1" and cur is not None and prev and prev.startswith("arg --"):
                    cur.append(prev[6:])
                prev = ln
    except OSError:
        return {}
    return groups


def write_table(results, tree, arches, variants, docs):
    cols = [(v, a) for a in arches for v in variants]
    rows = []

    def row(label, fn):
        cells = []
        for c in cols:
            d = docs.get(c)
            try:
                cells.append(str(fn(d)) if d else "no results")
            except (KeyError, TypeError):
                cells.append("-")
        rows.append("| %s | %s |" % (label, " | ".join(cells)))

    ph = lambda d, n: d["phases"][n]  # noqa: E731
    names = sorted({n for d in docs.values() if d for n in d["phases"]},
                   key=lambda n: (not n.startswith("clean-"), n))
    for n in names:
        row("%s: stress-ng status" % n, lambda d: ph(d, n)["status"])
        row("%s: copy_process() calls by stress-ng's tasks" % n,
            lambda d: ph(d, n)["forks"]["calls"])
        row("%s: copy_process() errors" % n, lambda d: errs(ph(d, n)["forks"]["errors"]))
        row("%s: dup_mmap() calls / errors" % n,
            lambda d: "%s / %s" % (ph(d, n)["dup_mmap"]["calls"], errs(ph(d, n)["dup_mmap"]["errors"])))
        row("%s: kretprobe returns missed" % n,
            lambda d: ", ".join("%s %d" % kv for kv in sorted(ph(d, n)["missed"].items())))
        row("%s: tasks / swap files left behind" % n,
            lambda d: "%s / %s" % (ph(d, n)["leftovers"]["leftover_tasks"],
                                   ph(d, n)["leftovers"]["leftover_swaps"]))
        if n.startswith("inject-"):
            row("%s: failures injected (slab, page)" % n,
                lambda d: "%s, %s" % (ph(d, n)["injected"].get("failslab"),
                                      ph(d, n)["injected"].get("fail_page_alloc")))
        stressors = sorted({s for d in docs.values() if d and n in d["phases"]
                            for s in d["phases"][n]["metrics"]})
        for s in stressors:
            row("%s: %s bogo-ops" % (n, s), lambda d: ph(d, n)["metrics"].get(s, "-"))
    row("splats", lambda d: len(d["splats"]))
    row("inject: 'Huh VM_FAULT_OOM leaked' lines (rate-limited) / OOM kills",
        lambda d: "%d / %d" % (sum(v.get("Huh VM_FAULT_OOM leaked", 0) for v in d["noise"].values()),
                               sum(v.get("invoked oom-killer", 0) for v in d["noise"].values())))
    row("kmemleak objects", lambda d: d["kmemleak"])
    head = "| %s | %s |\n| --- | %s |\n" % (
        tree, " | ".join("%s %s" % (a, "series" if v == "patched" else v) for v, a in cols),
        " | ".join("---" for _ in cols))
    with open(os.path.join(results, "table.md"), "w") as f:
        f.write(head + "\n".join(rows) + "\n")
    print("\n" + head + "\n".join(rows))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "blocks" and len(args) == 2:
        blocks(*args)
    elif cmd == "closure" and len(args) == 2:
        closure(*args)
    elif cmd == "parse" and len(args) == 2:
        parse(*args)
    elif cmd == "judge" and len(args) == 4:
        sys.exit(judge(*args))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
