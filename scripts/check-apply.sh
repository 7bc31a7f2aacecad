#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Apply a tree's shipped series the ways a kernel developer does (git am by
# the README's line, b4 am, b4 shazam, quilt) and check that each gives the
# same tree, and that exporting the result again gives the shipped files.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Apply patches/<tree>/ onto the tree's pinned base in the work tree
\$CACHE_DIR/work/<tree>/apply, each time from a clean base, and check.
A series that the tree's depends on and that goes to other maintainers
(mainline: the KUnit fix, patches/mainline/kunit/) is its own mail thread
and is applied first, each way:
  - git am, as README.md gives it: the files of each series file, in its
    order (the cover letter is not in it); this is the reference;
  - b4 am (Debian's b4, --offline-mode) of each series as one mbox (cover
    letter first): finds every patch and the cover letter's base-commit,
    and the am-ready mboxes, applied with git am, give the reference's
    tree and commit messages;
  - b4 shazam --offline-mode of the same mboxes: the reference's tree;
  - quilt push -a with QUILT_PATCHES=each series' directory: the
    reference's tree;
  - where the tree table asks for it (6.12.y), the DEP-3 form in
    patches/<tree>/dep3: the same patches in the same order, each with
    valid DEP-3 headers (scripts/lib/dep3.py check), and quilt push -a of
    it gives the reference's tree;
  - every patch is addressed to what scripts/get_maintainer.pl names for it
    (maintainers in To:, or the tree table's To: and the maintainers in
    Cc:; reviewers and lists in Cc:), the cover letter to all of them;
  - scripts/export-series.sh run on the reference gives the shipped files,
    byte for byte (Message-Ids, To/Cc and all).
Prints one line per check and ends with "N passed, N failed"; exits 1 if
anything failed.  Logs: \$CACHE_DIR/logs/apply-<tree> ($CACHE_DIR/logs/apply-<tree>).

Options:
      --tree TREE     tree to check (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
      --no-install    never run apt-get, only say what is missing
  -h, --help          show this help
EOT
}

# tree_of REF: the tree object of REF in the work tree.
tree_of() {
	git -C "$TREE_DIR" rev-parse "$1^{tree}"
}

# same_tree WHAT: the work tree's HEAD must have the reference's tree, and
# the series' number of commits on top of the base.
same_tree() {
	local what="$1" n

	n=$(git -C "$TREE_DIR" rev-list --count "$BASE_REF..HEAD")
	[[ "$n" == "${#SERIES[@]}" ]] ||
		die "$what: $n commits on the base, the series has ${#SERIES[@]}"
	[[ "$(tree_of HEAD)" == "$REF_TREE" ]] ||
		die "$what: tree $(tree_of HEAD) differs from git am's $REF_TREE: $(git -C "$TREE_DIR" diff --stat "$REF_COMMIT" HEAD | tail -n1)"
	echo "$what: tree $REF_TREE, $n commits, as git am"
}

# The README's line, in a subshell of each series' directory, in order.
apply_git_am() {
	local dir

	reset_worktree "$TREE_DIR"
	for dir in "${SERIES_DIRS[@]}"; do
		# shellcheck disable=SC2046 # the README's line: one word per file
		(cd "$dir" && git_fixed -C "$TREE_DIR" am --committer-date-is-author-date \
			$(sed "s|^|$PWD/|" series))
	done
	git -C "$TREE_DIR" rev-parse HEAD >"$WORK/ref-commit"
}

# apply_b4_am: b4 am of each series' mbox, in order; each must find all
# its patches and the base-commit, and git am of the am-ready mboxes must
# give the reference's tree and messages.
apply_b4_am() {
	local i mbx n count

	reset_worktree "$TREE_DIR"
	for i in "${!MBOXES[@]}"; do
		rm -rf "$WORK/b4am"
		mkdir -p "$WORK/b4am"
		# In the base repository, so that b4 can tell whether it knows
		# the cover letter's base-commit.
		(cd "$TREE_DIR" && b4 --offline-mode --no-interactive am -m "${MBOXES[i]}" -o "$WORK/b4am") \
			>"$WORK/b4am.log" 2>&1 || { cat "$WORK/b4am.log"; die "b4 am of ${MBOXES[i]##*/} failed"; }
		cat "$WORK/b4am.log"
		count=$(grep -c '' "${SERIES_DIRS[i]}/series")
		grep -q "^Total patches: $count$" "$WORK/b4am.log" ||
			die "b4 am did not report the $count patches of ${MBOXES[i]##*/}"
		grep -q "Base: using specified base-commit $TREE_BASE_COMMIT" "$WORK/b4am.log" ||
			die "b4 am did not find the base-commit $TREE_BASE_COMMIT in ${MBOXES[i]##*/}"
		mbx=$(find "$WORK/b4am" -name '*.mbx')
		n=$(printf '%s\n' "$mbx" | grep -c .) || true
		[[ "$n" == 1 ]] || die "b4 am wrote $n am-ready mboxes for ${MBOXES[i]##*/}, not one"
		git_fixed -C "$TREE_DIR" am --committer-date-is-author-date "$mbx"
	done
	same_tree "b4 am"
	diff <(git -C "$TREE_DIR" log --format='%an <%ae> %ad%n%B' "$BASE_REF..HEAD") \
	     <(git -C "$TREE_DIR" log --format='%an <%ae> %ad%n%B' "$BASE_REF..$REF_COMMIT") ||
		die "b4 am: the commits' authors, dates or messages differ from git am's"
}

apply_b4_shazam() {
	local mbox

	reset_worktree "$TREE_DIR"
	# b4 runs git am itself: give it a committer on a machine without
	# git's user.* settings.  Each series in turn, on the one before.
	for mbox in "${MBOXES[@]}"; do
		(cd "$TREE_DIR" && GIT_COMMITTER_NAME="$TREE_IMPORT_NAME" \
			GIT_COMMITTER_EMAIL="$TREE_IMPORT_EMAIL" \
			b4 --offline-mode --no-interactive shazam -m "$mbox")
	done
	same_tree "b4 shazam"
}

# apply_quilt [DIR...]: quilt push -a of each DIR's series file in turn
# (default: the shipped series, prerequisite ones first) must give git
# am's tree.
apply_quilt() {
	local dirs=("$@") dir commit

	[[ ${#dirs[@]} -gt 0 ]] || dirs=("${SERIES_DIRS[@]}")
	reset_worktree "$TREE_DIR"
	# The kernel's .gitignore hides .pc from git clean: remove it here.
	rm -rf "${TREE_DIR:?}/.pc"
	for dir in "${dirs[@]}"; do
		(cd "$TREE_DIR" && QUILT_PATCHES="$dir" QUILT_PC=.pc quilt push -a -q --fuzz=0)
		# A new stack for the next series, on top of this one.
		rm -rf "${TREE_DIR:?}/.pc"
	done
	git -C "$TREE_DIR" add -A -f -- .
	commit=$(git_fixed -C "$TREE_DIR" commit -q -m "quilt push -a" && git -C "$TREE_DIR" rev-parse HEAD)
	[[ "$(tree_of "$commit")" == "$REF_TREE" ]] ||
		die "quilt: tree differs from git am's: $(git -C "$TREE_DIR" diff --stat "$REF_COMMIT" HEAD | tail -n1)"
	echo "quilt push -a of ${#dirs[@]} series file(s), ${dirs[-1]#"$REPO_DIR"/}/series last: tree $REF_TREE, as git am"
}

# apply_dep3: the DEP-3 form holds the series' patches in the same order,
# each with valid DEP-3 headers, and quilt applies it to git am's tree.
apply_dep3() {
	local dir="$TREE_PATCH_DIR/dep3"

	[[ -f "$dir/series" ]] || die "no DEP-3 form: $dir/series is missing"
	cmp -s "$TREE_PATCH_DIR/series" "$dir/series" ||
		die "$dir/series names other patches than $TREE_PATCH_DIR/series"
	python3 "$LIB/dep3.py" check "$dir"
	echo "DEP-3 headers: $(wc -l <"$dir/series") patches, each with From, Date, Subject, Forwarded, Last-Update"
	apply_quilt "${SERIES_DIRS[@]:0:${#SERIES_DIRS[@]}-1}" "$dir"
}

# recipients: every patch is addressed to what get_maintainer.pl names for
# it (maintainers in To:, or in Cc: when the tree table sets To:; reviewers
# and lists in To: or Cc:), and the cover letter to all of them.
recipients() {
	local maint_tree dir rc=0

	maint_tree=$(maintainers_tree)
	maintainers_of "$maint_tree" "$WORK/maint" "${SERIES[@]}"
	for dir in "${SERIES_DIRS[@]}"; do
		series_addressed "$dir" || rc=1
	done
	return "$rc"
}

# series_addressed DIR: the patches of DIR's series and its cover letter.
series_addressed() {
	local dir="$1" patches=()

	mapfile -t patches < <(sed "s|^|$dir/|" "$dir/series")
	MAIL_TO="$TREE_MAIL_TO" python3 - "$WORK/maint" "$dir/0000-cover-letter.patch" \
		"${patches[@]}" <<'PY'
import email, os, sys
from email.utils import getaddresses

def addrs(msg, name):
    return {a.lower() for _, a in getaddresses(msg.get_all(name, []))}

def named(path):
    return {a.lower() for _, a in getaddresses([l.strip() for l in open(path) if l.strip()])}

maint, cover, patches = sys.argv[1], sys.argv[2], sys.argv[3:]
mail_to = {a.strip().lower() for a in os.environ["MAIL_TO"].split(",") if a.strip()}
bad = 0
everyone = set()
for p in patches:
    msg = email.message_from_file(open(p))
    to, cc = addrs(msg, "To"), addrs(msg, "Cc")
    m = named(os.path.join(maint, os.path.basename(p) + ".m"))
    o = named(os.path.join(maint, os.path.basename(p) + ".o"))
    want_to = mail_to or m
    for a in sorted(want_to - to):
        print(f"{os.path.basename(p)}: {a} is not in To:"); bad = 1
    for a in sorted((m | o) - to - cc):
        print(f"{os.path.basename(p)}: {a} is in neither To: nor Cc:"); bad = 1
    if not m:
        print(f"{os.path.basename(p)}: get_maintainer.pl names no maintainer"); bad = 1
    print(f"{os.path.basename(p)}: To {len(to)}, Cc {len(cc)}: {len(m)} maintainers, {len(o)} reviewers and lists")
    everyone |= to | cc
msg = email.message_from_file(open(cover))
missing = everyone - addrs(msg, "To") - addrs(msg, "Cc")
for a in sorted(missing):
    print(f"cover letter: {a} is in neither To: nor Cc:"); bad = 1
print(f"cover letter: {len(everyone)} recipients")
sys.exit(bad)
PY
}

reexport() {
	reset_worktree "$TREE_DIR" "$REF_COMMIT"
	rm -rf "$WORK/export"
	"$REPO_DIR/scripts/export-series.sh" --tree "$TREE" --work-dir "$TREE_DIR" --out "$WORK/export"
	diff -r "$TREE_PATCH_DIR" "$WORK/export"
	echo "export of git am's commits: the shipped files, byte for byte"
}

main() {
	local opts dir

	opts=$(getopt -o h -l help,tree:,no-install -n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	ensure_packages base apply
	LOG_DIR="$CACHE_DIR/logs/apply-$TREE"
	mkdir -p "$LOG_DIR"

	series_patches
	series_dirs
	base_fetch
	TREE_DIR="$TREE_WORK/apply"
	take_lock "$(lock_name "$TREE_DIR")"
	WORK=$(mktemp -d "$CACHE_DIR/tmp.apply.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT
	# One mbox per series, cover letter first: one mail thread each.
	MBOXES=()
	for dir in "${SERIES_DIRS[@]}"; do
		MBOXES+=("$WORK/$(basename "$dir").mbox")
		# shellcheck disable=SC2046 # one word per file
		cat "$dir/0000-cover-letter.patch" $(sed "s|^|$dir/|" "$dir/series") >"${MBOXES[-1]}"
	done

	check "git am of each series file of patches/$TREE in order, as README.md gives it" git-am apply_git_am
	if [[ $STEP_RC -ne 0 ]]; then
		totals
		exit 1
	fi
	REF_COMMIT=$(cat "$WORK/ref-commit")
	REF_TREE=$(tree_of "$REF_COMMIT")
	check "b4 am of ${#MBOXES[@]} thread(s): ${#SERIES[@]} patches, base-commit found, same tree and messages as git am" \
		b4-am apply_b4_am
	check "b4 shazam: same tree as git am" b4-shazam apply_b4_shazam
	check "quilt push -a with QUILT_PATCHES=each series' directory: same tree as git am" quilt apply_quilt
	if [[ "$TREE_DEP3" == 1 ]]; then
		check "DEP-3 form patches/$TREE/dep3: valid headers, quilt push -a gives git am's tree" \
			dep3 apply_dep3
	fi
	check "every mail goes to whom get_maintainer.pl names for its patch" recipients recipients
	check "export-series.sh of git am's commits gives the shipped files" reexport reexport
	reset_worktree "$TREE_DIR"
	rm -rf "${TREE_DIR:?}/.pc"
	totals
}

main "$@"
