# SPDX-License-Identifier: GPL-2.0
"""The warnings of a kernel build in given files, and the new ones.

Usage: robot_warnings.py list TREE LOG FILE...
       robot_warnings.py compare BASE_LIST PATCH_LIST

list: print the diagnostics of the make output LOG (gcc, clang and sparse
all print "path:line:col: warning: text" or "... error: text") whose path
is one of FILE (relative to the kernel tree TREE; the build prints them
relative to the build directory, "../mm/memory.c", or absolute), one a
line as "file<TAB>tool<TAB>kind: text", sorted, line numbers left out so
that a patch moving code does not make old warnings new.  tool is sparse
for a diagnostic without gcc's or clang's "[-W...]" option suffix.

compare: the lines of PATCH_LIST that BASE_LIST does not have, counting
repeats (a second copy of an old warning is new).  Prints a summary line
and each new warning; exits 1 if there is one.
"""

import collections
import os
import re
import sys

DIAG = re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?:(?P<col>\d+):)? (?P<kind>warning|error): (?P<text>.*)$")


def norm(tree, path):
    path = os.path.normpath(path)
    if os.path.isabs(path):
        path = os.path.relpath(path, tree)
    while path.startswith("../"):
        path = path[3:]
    return path


def listing(tree, log, files):
    want = set(files)
    out = []
    with open(log, errors="replace") as f:
        for line in f:
            m = DIAG.match(line.rstrip("\n"))
            if not m:
                continue
            path = norm(tree, m.group("path"))
            if path not in want:
                continue
            text = m.group("text").strip()
            tool = "gcc/clang" if re.search(r"\[-W[^\]]*\]$", text) else "sparse"
            out.append(f"{path}\t{tool}\t{m.group('kind')}: {text}")
    for line in sorted(out):
        print(line)


def compare(base_list, patch_list):
    base = collections.Counter(l.rstrip("\n") for l in open(base_list) if l.strip())
    patch = collections.Counter(l.rstrip("\n") for l in open(patch_list) if l.strip())
    new = patch - base
    by_tool = collections.Counter(l.split("\t")[1] for l in patch.elements())
    print(f"{sum(patch.values())} warning(s) in the touched files "
          f"({', '.join(f'{n} {t}' for t, n in sorted(by_tool.items())) or 'none'}), "
          f"{sum(base.values())} on the base, {sum(new.values())} new")
    for line in sorted(new.elements()):
        print("new: " + line.replace("\t", "  "))
    return 1 if new else 0


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "list":
        listing(sys.argv[2], sys.argv[3], sys.argv[4:])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        return compare(sys.argv[2], sys.argv[3])
    sys.exit("usage: robot_warnings.py list TREE LOG FILE... | compare BASE_LIST PATCH_LIST")


if __name__ == "__main__":
    sys.exit(main())
