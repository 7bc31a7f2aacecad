# SPDX-License-Identifier: GPL-2.0
"""The DEP-3 form of an exported series, for a distribution's patch queue.

Usage: dep3.py write SERIES_DIR IDS OUT_DIR
       dep3.py check DIR

write: for each patch of SERIES_DIR/series (the mails export-series.sh
wrote), write OUT_DIR/<same name> in the form Debian's kernel team keeps in
debian/patches/ (https://dep-team.pages.debian.net/deps/dep3/): the
From:, Date: and Subject: of the mail, the subject without its [PATCH ...]
prefix, then the DEP-3 fields, then the message and the diff unchanged.
The mail's routing headers (To:, Cc:, Message-Id:, In-Reply-To:,
References:) are left out.  The fields:
  Origin:      backport, https://git.kernel.org/linus/<id>, for a patch
               whose message says it is based on upstream commit <id>
               (IDS, scripts/upstream-ids.txt, gives the full id); other
               patches have no Origin: (DEP-3 then takes From: as the
               author);
  Forwarded:   not-needed for a patch based on upstream (upstream has the
               change), no otherwise;
  Last-Update: the date of the patch, so that writing again gives the
               same bytes.
OUT_DIR also gets a quilt series file in the same order.

check: DIR must hold a series file and, for each patch it names, the
header block above: From:, Date:, Subject: without a [PATCH prefix,
Forwarded: with a DEP-3 value, Last-Update: as YYYY-MM-DD, an Origin: of
the form above if any, and none of the mail's routing headers.  Prints one
line per problem and exits 1 if there is any.
"""

import email.utils
import os
import re
import sys

ROUTING = ("To", "Cc", "Message-Id", "In-Reply-To", "References")
BASED_ON = re.compile(r"Based on (?:the \w+ half of )?upstream\s+commit\s+([0-9a-f]{12,40})\b")
ORIGIN = re.compile(r"backport, https://git\.kernel\.org/linus/[0-9a-f]{40}$")


def fail(msg):
    sys.exit(f"dep3.py: {msg}")


def read_series(d):
    path = os.path.join(d, "series")
    if not os.path.isfile(path):
        fail(f"{d}: no series file")
    return [l.strip() for l in open(path) if l.strip() and not l.startswith("#")]


def headers(head):
    """The header block as (name, value) pairs, continuation lines unfolded."""
    head = re.sub(r"\n[ \t]+", " ", head)
    out = []
    for line in head.split("\n"):
        if line.startswith("From ") and not out:
            continue  # the mbox separator line
        name, sep, value = line.partition(": ")
        if not sep:
            fail(f"not a header line: {line!r}")
        out.append((name, value))
    return out


def full_ids(path):
    ids = {}
    for line in open(path):
        if line.strip() and not line.startswith("#"):
            full = line.split()[0]
            ids[full[:12]] = full
    return ids


def write(series_dir, ids_path, out):
    ids = full_ids(ids_path)
    names = read_series(series_dir)
    os.makedirs(out, exist_ok=True)
    for name in names:
        text = open(os.path.join(series_dir, name)).read()
        head, sep, body = text.partition("\n\n")
        if not sep:
            fail(f"{name}: no header block")
        fields = dict(headers(head))
        for need in ("From", "Date", "Subject"):
            if need not in fields:
                fail(f"{name}: no {need}: header")
        subject = re.sub(r"^\[PATCH[^\]]*\]\s*", "", fields["Subject"])
        date = email.utils.parsedate_to_datetime(fields["Date"])
        message = body.partition("\n---\n")[0]
        based = BASED_ON.findall(message)
        if len(set(based)) > 1:
            fail(f"{name}: based on more than one upstream commit: {', '.join(sorted(set(based)))}")
        lines = [f"From: {fields['From']}", f"Date: {fields['Date']}", f"Subject: {subject}"]
        if based:
            short = based[0][:12]
            if short not in ids:
                fail(f"{name}: upstream commit {short} is not in {ids_path}")
            lines.append(f"Origin: backport, https://git.kernel.org/linus/{ids[short]}")
            lines.append("Forwarded: not-needed")
        else:
            lines.append("Forwarded: no")
        lines.append(f"Last-Update: {date:%Y-%m-%d}")
        with open(os.path.join(out, name), "w") as f:
            f.write("\n".join(lines) + "\n\n" + body)
    with open(os.path.join(out, "series"), "w") as f:
        f.write("".join(n + "\n" for n in names))


def check(d):
    bad = []
    for name in read_series(d):
        path = os.path.join(d, name)
        if not os.path.isfile(path):
            bad.append(f"{name}: named in the series file, not in {d}")
            continue
        head, sep, _ = open(path).read().partition("\n\n")
        if not sep:
            bad.append(f"{name}: no header block")
            continue
        try:
            fields = headers(head)
        except SystemExit as e:
            bad.append(f"{name}: {e}")
            continue
        names = [n for n, _ in fields]
        f = dict(fields)
        for need in ("From", "Date", "Subject", "Forwarded", "Last-Update"):
            if need not in f:
                bad.append(f"{name}: no {need}: field")
        for n in ROUTING:
            if n in f:
                bad.append(f"{name}: mail header {n}: left in")
        if f.get("Subject", "").startswith("[PATCH"):
            bad.append(f"{name}: Subject: keeps its [PATCH prefix")
        fwd = f.get("Forwarded", "no")
        if fwd not in ("no", "not-needed") and not fwd.startswith(("http://", "https://")):
            bad.append(f"{name}: Forwarded: {fwd} is not no, not-needed or a URL")
        if "Last-Update" in f and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", f["Last-Update"]):
            bad.append(f"{name}: Last-Update: {f['Last-Update']} is not YYYY-MM-DD")
        if "Origin" in f and not ORIGIN.match(f["Origin"]):
            bad.append(f"{name}: Origin: {f['Origin']} is not 'backport, <upstream commit URL>'")
        if "Origin" in f and fwd != "not-needed":
            bad.append(f"{name}: an upstream backport should say Forwarded: not-needed")
        for n in set(names):
            if names.count(n) > 1:
                bad.append(f"{name}: {n}: given {names.count(n)} times")
    for line in bad:
        print(line)
    return 1 if bad else 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "write":
        write(*sys.argv[2:])
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        return check(sys.argv[2])
    fail("usage: dep3.py write SERIES_DIR IDS OUT_DIR | check DIR")


if __name__ == "__main__":
    sys.exit(main())
