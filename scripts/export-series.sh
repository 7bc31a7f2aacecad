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
lists in Cc:; 6.12.y: To: Debian's kernel team, everyone else in Cc:),
run in the base of the tree table's TREE_MAINT_TREE (6.12.y: mainline's,
which has today's maintainers and addresses); the cover letter to all of
them.  For a tree meant for a distribution's patch queue (6.12.y), also
write patches/<tree>/dep3/: each patch with DEP-3 headers (Origin:,
Forwarded:, Last-Update:) instead of the mail headers, and a quilt series
file (scripts/lib/dep3.py says which fields).  Exporting the same commits
again gives the same bytes.

With --post DIR, export nothing: copy the shipped patches/<tree>/ into DIR,
outside this repository, re-signed by whoever posts them.  The project's
group address cannot certify the Developer's Certificate of Origin: in
the copies, your git identity (git config user.name and user.email)
becomes the From: of every mail and replaces the project's
Signed-off-by:.  Everything else stays as shipped.  Send the copies (git
send-email DIR/*.patch) only if you can certify the DCO for them.

Options:
  -o, --work-dir DIR work tree holding the series as commits on top of 'base'
      --tree TREE    tree (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -v, --reroll N     version of the series (default: 1; 1 prints no "v1")
      --out DIR      write there instead (default: patches/<tree>/)
      --post DIR     write copies of patches/<tree>/ re-signed by you to DIR
  -h, --help         show this help
EOT
}

# post DIR: copies of the shipped series in DIR (a prerequisite series in
# DIR/NAME, as in patches/<tree>), From: and Signed-off-by: of the poster's
# git identity instead of the project's.
post() {
	local dir="$1" name email tmp src sub

	case "$(realpath -m "$dir")/" in
	"$REPO_DIR"/*) die "--post writes outside this repository, not to $dir" ;;
	esac
	name=$(git -C "$REPO_DIR" config user.name || true)
	email=$(git -C "$REPO_DIR" config user.email || true)
	[[ -n "$name" && -n "$email" ]] ||
		die "--post signs with your git identity: set git config user.name and user.email"
	series_dirs
	for src in "${SERIES_DIRS[@]}"; do
		[[ -f "$src/series" ]] || die "no shipped series in $src"
	done
	if [[ -e "$dir" ]] && find "$dir" -mindepth 1 ! -name '*.patch' ! -name series ! -type d | grep -q .; then
		die "$dir holds other files than a series: choose an empty or new directory"
	fi
	tmp=$(mktemp -d)
	TMP_EXPORT="$tmp"
	trap 'rm -rf "$TMP_EXPORT"' EXIT
	for src in "${SERIES_DIRS[@]}"; do
		sub="${src#"$TREE_PATCH_DIR"}"
		mkdir -p "$tmp/out$sub"
		cp "$src"/*.patch "$src/series" "$tmp/out$sub/"
		POSTER="$name <$email>" python3 - "$tmp/out$sub"/*.patch <<'PY' || die "could not re-sign the series"
import os, re, sys

poster = os.environ['POSTER']
project = None
for path in sys.argv[1:]:
    text = open(path).read()
    head, sep, body = text.partition('\n\n')
    m = re.search(r'^From: (.*)$', head, re.M)
    if not m:
        sys.exit(f'{path}: no From: header')
    if project is None:
        project = m.group(1)
    if m.group(1) != project:
        sys.exit(f'{path}: From: {m.group(1)}, not the project\'s {project}')
    if poster == project:
        sys.exit(f'your git identity is the project\'s ({project}), which cannot sign')
    head = head.replace(f'From: {project}', f'From: {poster}', 1)
    msg, sep2, rest = body.partition('\n---\n')
    if 'cover-letter' not in path:
        sob = f'Signed-off-by: {project}'
        if msg.count(sob) != 1:
            sys.exit(f'{path}: expected one "{sob}"')
        msg = msg.replace(sob, f'Signed-off-by: {poster}')
    open(path, 'w').write(head + sep + msg + sep2 + rest)
PY
	done
	for src in "${SERIES_DIRS[@]}"; do
		sub="${src#"$TREE_PATCH_DIR"}"
		mkdir -p "$dir$sub"
		rm -f "$dir$sub"/*.patch "$dir$sub/series"
		cp "$tmp/out$sub"/*.patch "$tmp/out$sub/series" "$dir$sub/"
		log "wrote $(wc -l <"$dir$sub/series") patches and the cover letter to $dir$sub, from and signed off by $name <$email>"
	done
}

main() {
	# export_one reads reroll, extra and maint_tree of this scope.
	local tree="" reroll=1 out="" post_dir="" opts maint_tree extra=()
	local entry name change_id n from to done=0 commits=()

	opts=$(getopt -o ho:v: -l help,work-dir:,tree:,reroll:,out:,post: -n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		-o | --work-dir) tree="$2"; shift 2 ;;
		-v | --reroll) reroll="$2"; shift 2 ;;
		--out) out="$2"; shift 2 ;;
		--post) post_dir="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	if [[ -n "$post_dir" ]]; then
		[[ -z "$tree" && -z "$out" && "$reroll" == 1 ]] ||
			die "--post copies the shipped series: no --work-dir, --out or --reroll with it"
		post "$post_dir"
		return 0
	fi
	[[ -n "$tree" ]] || die "--work-dir is required (see --help)"
	git -C "$tree" rev-parse -q --verify "$BASE_REF^{commit}" >/dev/null ||
		die "$tree is not a work tree of the imported base (no tag 'base')"
	[[ -f "$TREE_COVER" ]] || die "missing $TREE_COVER"
	[[ "$reroll" =~ ^[1-9][0-9]*$ ]] || die "--reroll takes a positive number, not '$reroll'"
	[[ "$reroll" == 1 ]] || extra+=(--reroll-count="$reroll")
	out="${out:-$TREE_PATCH_DIR}"
	need_tools perl python3

	maint_tree=$(maintainers_tree)
	TMP_EXPORT=$(mktemp -d)
	trap 'rm -rf "$TMP_EXPORT"' EXIT
	mapfile -t commits < <(git -C "$tree" rev-list --reverse "$BASE_REF..HEAD")
	from="$BASE_REF"
	for entry in "${TREE_PREREQS[@]}"; do
		IFS=$'\t' read -r name change_id n <<<"$entry"
		[[ $((done + n)) -lt ${#commits[@]} ]] ||
			die "$tree has ${#commits[@]} commits on the base: none left for the series after $name"
		to="${commits[done + n - 1]}"
		export_one "$tree" "$from" "$to" "$REPO_DIR/scripts/cover/$TREE-$name.txt" \
			"$change_id" "$out/$name" 0
		from="$to" done=$((done + n))
	done
	export_one "$tree" "$from" HEAD "$TREE_COVER" "$TREE_CHANGE_ID" "$out" "$TREE_DEP3"
}

# export_one WORK FROM TO COVER CHANGE_ID OUT DEP3: export the commits
# FROM..TO of WORK as one mail thread into OUT (its *.patch, series and,
# with DEP3 1, dep3/), the cover letter from COVER.  A series after a
# prerequisite one says so in its cover letter (prerequisite-patch-id:).
export_one() {
	local tree="$1" from="$2" to="$3" cover="$4" change_id="$5" out="$6" dep3="$7"
	local tmp newest subject blurb patches=()

	[[ -f "$cover" ]] || die "missing $cover"
	tmp="$TMP_EXPORT/$(basename "$out")"
	mkdir -p "$tmp"
	# The cover letter takes the committer's identity and the time of
	# day: use the series' author and its newest author date, so that
	# exporting the same commits again gives the same files.  Neither the
	# user's nor the system's git configuration may change the output
	# (diff prefixes, algorithm, abbreviations).
	newest=$(git -C "$tree" log --format='%at %aD' "$from..$to" | sort -n | tail -n1)
	GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 \
	GIT_COMMITTER_NAME=$(git -C "$tree" log -1 --format=%an "$to") \
	GIT_COMMITTER_EMAIL=$(git -C "$tree" log -1 --format=%ae "$to") \
	GIT_COMMITTER_DATE="${newest#* }" \
	git -C "$tree" -c core.abbrev=12 -c diff.algorithm=myers format-patch -q \
		--cover-letter --base="$BASE_REF" --subject-prefix="$TREE_PREFIX" \
		--no-signature "${extra[@]}" -o "$tmp" "$from..$to"

	# Who gets each patch: scripts/get_maintainer.pl of the tree that
	# names today's maintainers (the tree table's TREE_MAINT_TREE), as a
	# poster runs it (no git history: the bases are tarball imports).
	mapfile -t patches < <(find "$tmp" -maxdepth 1 -name '*.patch' ! -name '*-cover-letter.patch' | sort)
	maintainers_of "$maint_tree" "$tmp/maint" "${patches[@]}"
	subject=$(head -n1 "$cover")
	blurb=$(tail -n +3 "$cover")
	SUBJECT="$subject" BLURB="$blurb" CHANGE_ID="$change_id" REROLL="$reroll" \
	MAIL_TO="$TREE_MAIL_TO" python3 "$LIB/series_mail.py" "$tmp" "$tmp/maint" ||
		die "could not write the mail headers of the series"
	rm -rf "$tmp/maint"

	(cd "$tmp" && find . -maxdepth 1 -name '*.patch' ! -name '*-cover-letter.patch' -printf '%f\n' | sort) \
		>"$tmp/series"
	if [[ "$dep3" == 1 ]]; then
		python3 "$LIB/dep3.py" write "$tmp" "$REPO_DIR/scripts/upstream-ids.txt" "$tmp/dep3" ||
			die "could not write the DEP-3 form of the series"
	fi
	mkdir -p "$out"
	rm -f "$out"/*.patch "$out/series"
	rm -rf "${out:?}/dep3"
	cp "$tmp"/*.patch "$tmp/series" "$out/"
	if [[ "$dep3" == 1 ]]; then
		cp -r "$tmp/dep3" "$out/"
		log "exported $(wc -l <"$out/series") patches and the cover letter to $out, and their DEP-3 form to $out/dep3"
	else
		log "exported $(wc -l <"$out/series") patches and the cover letter to $out"
	fi
}

main "$@"
