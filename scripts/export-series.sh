#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate patches/ from a development branch on top of the base: one
# 'git format-patch' file per commit, the cover letter and the series file.
set -euo pipefail

PROG=$(basename "$0")
SCRIPTS_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPTS_DIR/lib.sh"

COVER_TEXT="$SCRIPTS_DIR/cover-letter.txt"
CHANGE_ID="20261124-dup-mmap-teardown-6-12-4f1e2d7c9a05"

usage() {
	cat <<EOT
Usage: $PROG --tree DIR [OPTIONS]

Export the commits between the base tag and HEAD of the git work tree DIR
into patches/ (replacing what is there), with a cover letter whose subject
and text come from scripts/cover-letter.txt (first line: subject) and which
ends with base-commit: and change-id: trailers, plus a plain series file.

Options:
  -t, --tree DIR     work tree holding the series as commits on top of 'base'
  -v, --reroll N     version of the series (default: 1; 1 prints no "v1")
  -h, --help         show this help
EOT
}

main() {
	local tree="" reroll=1 opts subject blurb cover extra=()

	opts=$(getopt -o ht:v: -l help,tree:,reroll: -n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		-t | --tree) tree="$2"; shift 2 ;;
		-v | --reroll) reroll="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		esac
	done
	[[ -n "$tree" ]] || die "--tree is required (see --help)"
	git -C "$tree" rev-parse -q --verify "$BASE_REF^{commit}" >/dev/null ||
		die "$tree is not a work tree of the imported base (no tag 'base')"
	[[ -f "$COVER_TEXT" ]] || die "missing $COVER_TEXT"
	[[ "$reroll" == 1 ]] || extra+=(--reroll-count="$reroll")

	tmp=$(mktemp -d)
	TMP_EXPORT="$tmp"
	trap 'rm -rf "$TMP_EXPORT"' EXIT
	git -C "$tree" format-patch -q --cover-letter --base="$BASE_REF" \
		--subject-prefix="PATCH 6.12.y" --no-signature "${extra[@]}" \
		-o "$tmp" "$BASE_REF..HEAD"

	cover=$(ls "$tmp"/*0000-cover-letter.patch)
	subject=$(head -n1 "$COVER_TEXT")
	blurb=$(tail -n +3 "$COVER_TEXT")
	SUBJECT="$subject" BLURB="$blurb" CHANGE_ID="$CHANGE_ID" python3 - "$cover" <<'PY'
import os, sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("*** SUBJECT HERE ***", os.environ["SUBJECT"])
s = s.replace("*** BLURB HERE ***", os.environ["BLURB"])
i = s.index("base-commit: ")
j = s.index("\n", i)
s = s[:j + 1] + "change-id: " + os.environ["CHANGE_ID"] + "\n" + s[j + 1:]
open(p, "w").write(s)
PY
	# A stable date line keeps regenerated patches diff-free.
	sed -i '1s/^From [0-9a-f]* /From 0000000000000000000000000000000000000000 /' "$tmp"/*.patch

	rm -f "$PATCH_DIR"/*.patch "$PATCH_DIR/series"
	mkdir -p "$PATCH_DIR"
	cp "$tmp"/*.patch "$PATCH_DIR/"
	(cd "$PATCH_DIR" && ls ./*.patch | sed 's|^\./||' | grep -v -- '-cover-letter\.patch$' >series)
	log "exported $(wc -l <"$PATCH_DIR/series") patches and the cover letter to $PATCH_DIR"
}

main "$@"
