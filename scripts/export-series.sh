#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate patches/<tree>/ from a development branch on top of the base:
# one 'git format-patch' file per commit, the cover letter and the series
# file.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

usage() {
	cat <<EOT
Usage: $PROG --work-dir DIR [OPTIONS]

Export the commits between the base tag and HEAD of the git work tree DIR
into patches/<tree>/ (replacing what is there), with a cover letter whose
subject and text come from scripts/cover/<tree>.txt (first line: subject)
and which ends with base-commit: and change-id: trailers (the tree table's
change-id), plus a plain series file.

Options:
  -o, --work-dir DIR work tree holding the series as commits on top of 'base'
      --tree TREE    tree (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -v, --reroll N     version of the series (default: 1; 1 prints no "v1")
  -h, --help         show this help
EOT
}

main() {
	local tree="" reroll=1 opts subject blurb cover tmp extra=()

	opts=$(getopt -o ho:v: -l help,work-dir:,tree:,reroll: -n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		-o | --work-dir) tree="$2"; shift 2 ;;
		-v | --reroll) reroll="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	[[ -n "$tree" ]] || die "--work-dir is required (see --help)"
	git -C "$tree" rev-parse -q --verify "$BASE_REF^{commit}" >/dev/null ||
		die "$tree is not a work tree of the imported base (no tag 'base')"
	[[ -f "$TREE_COVER" ]] || die "missing $TREE_COVER"
	[[ "$reroll" =~ ^[1-9][0-9]*$ ]] || die "--reroll takes a positive number, not '$reroll'"
	[[ "$reroll" == 1 ]] || extra+=(--reroll-count="$reroll")

	tmp=$(mktemp -d)
	TMP_EXPORT="$tmp"
	trap 'rm -rf "$TMP_EXPORT"' EXIT
	# The cover letter takes the committer's identity and the time of
	# day; use the series' author and the date of its last commit, so
	# that exporting the same commits again gives the same files.
	GIT_COMMITTER_NAME=$(git -C "$tree" log -1 --format=%an HEAD) \
	GIT_COMMITTER_EMAIL=$(git -C "$tree" log -1 --format=%ae HEAD) \
	GIT_COMMITTER_DATE=$(git -C "$tree" log -1 --format=%aD HEAD) \
	git -C "$tree" format-patch -q --cover-letter --base="$BASE_REF" \
		--subject-prefix="$TREE_PREFIX" --no-signature "${extra[@]}" \
		-o "$tmp" "$BASE_REF..HEAD"

	cover=$(ls "$tmp"/*0000-cover-letter.patch)
	subject=$(head -n1 "$TREE_COVER")
	blurb=$(tail -n +3 "$TREE_COVER")
	SUBJECT="$subject" BLURB="$blurb" CHANGE_ID="$TREE_CHANGE_ID" python3 - "$cover" <<'PY'
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

	rm -f "$TREE_PATCH_DIR"/*.patch "$TREE_PATCH_DIR/series"
	mkdir -p "$TREE_PATCH_DIR"
	cp "$tmp"/*.patch "$TREE_PATCH_DIR/"
	(cd "$tmp" && find . -name '*.patch' ! -name '*-cover-letter.patch' -printf '%f\n' | sort) \
		>"$TREE_PATCH_DIR/series"
	log "exported $(wc -l <"$TREE_PATCH_DIR/series") patches and the cover letter to $TREE_PATCH_DIR"
}

main "$@"
