# SPDX-License-Identifier: GPL-2.0
"""Turn 'git format-patch --cover-letter' output into the shipped series.

Usage: series_mail.py DIR MAINTAINERS_FILE

DIR holds the files format-patch wrote (NNNN-*.patch, 0000 the cover
letter, with a vN- prefix after a reroll).  MAINTAINERS_FILE is the output of scripts/get_maintainer.pl
--rolestats for the patches.  The environment gives SUBJECT, BLURB,
CHANGE_ID, REROLL and MAIL_TO (empty: the maintainers get_maintainer.pl
names).

Every file gets:
  - a fixed "From 000... " line, so that exporting the same commits again
    gives the same bytes;
  - header lines unfolded: b4 0.12 (Debian 12) fails on a folded Subject:;
  - a Message-Id made of the change-id, the version, the patch number and
    a hash of the patches, the patches In-Reply-To: and References: the
    cover letter, so that b4 sees one thread.
The cover letter gets its subject and text, To: and Cc:, and a change-id:
trailer after base-commit:.
"""

import hashlib
import os
import re
import sys

DOMAIN = "forkfix.invalid"


def split_message(text):
    head, sep, body = text.partition("\n\n")
    if not sep:
        sys.exit("series_mail.py: no header block in a format-patch file")
    # Unfold continuation lines (RFC 5322 allows 998 characters a line).
    head = re.sub(r"\n[ \t]+", " ", head)
    return head, body


def addresses(path, mail_to):
    to, cc = [], []
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        m = re.match(r"(.*?)\s+\(([^)]*)\)\s*$", line)
        addr, role = (m.group(1), m.group(2)) if m else (line, "")
        target = to if role.startswith("maintainer:") and not mail_to else cc
        if addr not in to and addr not in cc:
            target.append(addr)
    if mail_to:
        to = [a.strip() for a in mail_to.split(",") if a.strip()]
    return to, cc


def main():
    outdir, maint = sys.argv[1], sys.argv[2]
    env = os.environ
    names = sorted(f for f in os.listdir(outdir) if f.endswith(".patch"))
    if not names or not re.match(r"(v[0-9]+-)?0000-cover-letter\.patch$", names[0]):
        sys.exit("series_mail.py: no cover letter among the exported files")
    msgs = {}
    for name in names:
        text = open(os.path.join(outdir, name)).read()
        text = re.sub(r"^From [0-9a-f]{40} ", "From " + "0" * 40 + " ", text, count=1)
        msgs[name] = split_message(text)

    cover = names[0]
    head, body = msgs[cover]
    head = head.replace("*** SUBJECT HERE ***", env["SUBJECT"])
    body = body.replace("*** BLURB HERE ***", env["BLURB"])
    i = body.index("base-commit: ")
    j = body.index("\n", i)
    body = body[:j + 1] + "change-id: " + env["CHANGE_ID"] + "\n" + body[j + 1:]
    to, cc = addresses(maint, env.get("MAIL_TO", ""))
    if not to:
        sys.exit("series_mail.py: get_maintainer.pl named no maintainer and the tree sets no To:")
    head += "\nTo: " + ", ".join(to)
    if cc:
        head += "\nCc: " + ", ".join(cc)
    msgs[cover] = (head, body)

    digest = hashlib.sha256()
    for name in names[1:]:
        digest.update("\n\n".join(msgs[name]).encode())
    tag = digest.hexdigest()[:12]

    def msgid(n):
        return f"<{env['CHANGE_ID']}-v{env['REROLL']}-{n}-{tag}@{DOMAIN}>"

    for n, name in enumerate(names):
        head, body = msgs[name]
        head += "\nMessage-Id: " + msgid(n)
        if n:
            head += "\nIn-Reply-To: " + msgid(0) + "\nReferences: " + msgid(0)
        with open(os.path.join(outdir, name), "w") as f:
            f.write(head + "\n\n" + body)


if __name__ == "__main__":
    main()
