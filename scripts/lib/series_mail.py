# SPDX-License-Identifier: GPL-2.0
"""Turn 'git format-patch --cover-letter' output into the shipped series.

Usage: series_mail.py DIR MAINT_DIR

DIR holds the files format-patch wrote (NNNN-*.patch, 0000 the cover
letter, with a vN- prefix after a reroll).  For each patch NAME, MAINT_DIR
holds NAME.m, the maintainers scripts/get_maintainer.pl names for it (M:),
and NAME.o, the reviewers and lists (R:, L:), one address a line.  The
environment gives SUBJECT, BLURB, CHANGE_ID, REROLL and MAIL_TO (empty: the
maintainers go to To:, else MAIL_TO does and the maintainers go to Cc:).

Every file gets:
  - a fixed "From 000... " line, so that exporting the same commits again
    gives the same bytes;
  - the Subject: unfolded: b4 0.12 (Debian 12) fails on a folded one;
  - To: and Cc: (the cover letter: the union over the patches), one
    address a line;
  - a Message-Id made of the change-id, the version, the patch number and
    a hash of the whole series, the patches In-Reply-To: and References:
    the cover letter, so that b4 sees one thread.
The cover letter gets its subject and text and a change-id: trailer after
base-commit:.
"""

import hashlib
import os
import re
import sys

DOMAIN = "forkfix.invalid"


def split_message(name, text):
    head, sep, body = text.partition("\n\n")
    if not sep:
        sys.exit(f"series_mail.py: {name}: no header block")
    # Unfold continuation lines; the address lists are folded again below.
    head = re.sub(r"\n[ \t]+", " ", head)
    return head, body


def read_list(path):
    # get_maintainer.pl's order changes from run to run (perl's hash
    # order): sort, people first, then the lists (bare addresses).
    out = []
    for line in open(path):
        line = line.strip()
        if line and line not in out:
            out.append(line)
    return sorted(out, key=lambda a: ("<" not in a, a.lower().lstrip('"')))


def header(name, addrs):
    # One address a line: no line comes near RFC 5322's 998 characters.
    return "\n" + name + ": " + ",\n ".join(addrs)


def main():
    outdir, maint = sys.argv[1], sys.argv[2]
    env = os.environ
    mail_to = [a.strip() for a in env.get("MAIL_TO", "").split(",") if a.strip()]
    names = sorted(f for f in os.listdir(outdir) if f.endswith(".patch"))
    if not names or not re.match(r"(v[0-9]+-)?0000-cover-letter\.patch$", names[0]):
        sys.exit("series_mail.py: no cover letter among the exported files")
    msgs = {}
    for name in names:
        text = open(os.path.join(outdir, name)).read()
        text = re.sub(r"^From [0-9a-f]{40} ", "From " + "0" * 40 + " ", text, count=1)
        msgs[name] = split_message(name, text)

    all_to, all_cc = [], []
    for name in names[1:]:
        m = read_list(os.path.join(maint, name + ".m"))
        o = read_list(os.path.join(maint, name + ".o"))
        if not m and not mail_to:
            sys.exit(f"series_mail.py: get_maintainer.pl names no maintainer for {name}")
        to = mail_to or m
        cc = [a for a in (m if mail_to else []) + o if a not in to]
        cc = [a for i, a in enumerate(cc) if a not in cc[:i]]
        head, body = msgs[name]
        msgs[name] = (head + header("To", to) + (header("Cc", cc) if cc else ""), body)
        all_to += [a for a in to if a not in all_to]
        all_cc += [a for a in cc if a not in all_cc]
    all_cc = [a for a in all_cc if a not in all_to]

    cover = names[0]
    head, body = msgs[cover]
    head = head.replace("*** SUBJECT HERE ***", env["SUBJECT"])
    body = body.replace("*** BLURB HERE ***", env["BLURB"])
    i = body.find("base-commit: ")
    if i < 0:
        sys.exit("series_mail.py: the cover letter has no base-commit: line")
    j = body.index("\n", i)
    body = body[:j + 1] + "change-id: " + env["CHANGE_ID"] + "\n" + body[j + 1:]
    head += header("To", all_to) + (header("Cc", all_cc) if all_cc else "")
    msgs[cover] = (head, body)

    digest = hashlib.sha256()
    for name in names:
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
