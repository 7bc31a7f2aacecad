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
change-id), plus a plain series file.  The files form one thread, as b4
and git send-email expect it: fixed Message-Ids (the change-id, the
version, the patch number and a hash of the patches), the patches in reply
to the cover letter.  Each patch is addressed to what
scripts/get_maintainer.pl names for it (maintainers in To:, reviewers and
lists in Cc:; 6.12.y: To: stable, everyone else in Cc:), run in the base
of the tree table's TREE_MAINT_TREE (6.12.y: mainline's, which has
today's maintainers and addresses); the cover letter to all of them.
Exporting the same commits again gives the same bytes.

Options:
  -o, --work-dir DIR work tree holding the series as commits on top of 'base'
      --tree TREE    tree (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -v, --reroll N     version of the series (default: 1; 1 prints no "v1")
      --out DIR      write there instead (default: patches/<tree>/)
  -h, --help         show this help
EOT
}

main() {
	local tree="" reroll=1 out="" opts subject blurb tmp newest maint_tree extra=() patches=()

	opts=$(getopt -o ho:v: -l help,work-dir:,tree:,reroll:,out: -n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		-o | --work-dir) tree="$2"; shift 2 ;;
		-v | --reroll) reroll="$2"; shift 2 ;;
		--out) out="$2"; shift 2 ;;
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
	out="${out:-$TREE_PATCH_DIR}"
	need_tools perl python3

	maint_tree=$(maintainers_tree)

	tmp=$(mktemp -d)
	TMP_EXPORT="$tmp"
	trap 'rm -rf "$TMP_EXPORT"' EXIT
	# The cover letter takes the committer's identity and the time of
	# day: use the series' author and its newest author date, so that
	# exporting the same commits again gives the same files.  Neither the
	# user's nor the system's git configuration may change the output
	# (diff prefixes, algorithm, abbreviations).
	newest=$(git -C "$tree" log --format='%at %aD' "$BASE_REF..HEAD" | sort -n | tail -n1)
	GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 \
	GIT_COMMITTER_NAME=$(git -C "$tree" log -1 --format=%an HEAD) \
	GIT_COMMITTER_EMAIL=$(git -C "$tree" log -1 --format=%ae HEAD) \
	GIT_COMMITTER_DATE="${newest#* }" \
	git -C "$tree" -c core.abbrev=12 -c diff.algorithm=myers format-patch -q \
		--cover-letter --base="$BASE_REF" --subject-prefix="$TREE_PREFIX" \
		--no-signature "${extra[@]}" -o "$tmp" "$BASE_REF..HEAD"

	# Who gets each patch: scripts/get_maintainer.pl of the tree that
	# names today's maintainers (the tree table's TREE_MAINT_TREE), as a
	# poster runs it (no git history: the bases are tarball imports).
	mapfile -t patches < <(find "$tmp" -maxdepth 1 -name '*.patch' ! -name '*-cover-letter.patch' | sort)
	maintainers_of "$maint_tree" "$tmp/maint" "${patches[@]}"
	subject=$(head -n1 "$TREE_COVER")
	blurb=$(tail -n +3 "$TREE_COVER")
	SUBJECT="$subject" BLURB="$blurb" CHANGE_ID="$TREE_CHANGE_ID" REROLL="$reroll" \
	MAIL_TO="$TREE_MAIL_TO" python3 "$LIB/series_mail.py" "$tmp" "$tmp/maint" ||
		die "could not write the mail headers of the series"
	rm -rf "$tmp/maint"

	(cd "$tmp" && find . -name '*.patch' ! -name '*-cover-letter.patch' -printf '%f\n' | sort) \
		>"$tmp/series"
	mkdir -p "$out"
	rm -f "$out"/*.patch "$out/series"
	cp "$tmp"/*.patch "$tmp/series" "$out/"
	log "exported $(wc -l <"$out/series") patches and the cover letter to $out"
}

main "$@"
