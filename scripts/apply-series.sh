#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Apply the series in patches/ with 'git am' onto the pinned base, in a fresh
# work tree outside this repository.
set -euo pipefail

PROG=$(basename "$0")
SCRIPTS_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPTS_DIR/lib.sh"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Apply the patches listed in patches/series with 'git am' onto the pinned base
(see get-base.sh) and leave the result in a git work tree.  The patches are
applied in a scratch work tree; the target work tree is then created, or, if
it exists, reset and checked out at the result, which rewrites only the files
that differ (builds in it stay incremental).  Local changes in it are lost.
On a patch that does not apply, the script fails naming the patch and the
target work tree is left as it was.

Options:
  -o, --work-dir DIR   where to create the work tree
                       (default: \$CACHE_DIR/work/series = $CACHE_DIR/work/series)
  -n, --upto N         stop after patch N (1-based; default: all)
  -p, --pick N[,N...]  apply only these patches, in this order (for example
                       the KUnit patch alone onto the base as a control)
      --none           apply nothing: a work tree of the base only
  -d, --patches DIR    directory with the series file (default: $PATCH_DIR)
  -q, --quiet          print only the work tree directory
  -h, --help           show this help

Output (stdout): the work tree directory.
EOT
}

# reset_worktree BASE DIR [COMMIT]: make DIR a clean work tree of BASE at
# COMMIT (default: the base tag), reusing it if it already is one.
reset_worktree() {
	local base="$1" dir="$2" commit="${3:-$BASE_REF}" top

	top=$(git -C "$dir" rev-parse --show-toplevel 2>/dev/null || true)
	if [[ "$top" == "$dir" ]] &&
	   [[ "$(git -C "$dir" rev-parse --git-common-dir 2>/dev/null)" -ef "$base/.git" ]]; then
		git -C "$dir" am --abort >/dev/null 2>&1 || true
		git -C "$dir" checkout -q -f --detach "$commit"
		git -C "$dir" clean -q -f -d
		return 0
	fi
	remove_worktree "$base" "$dir"
	mkdir -p "$(dirname "$dir")"
	git -C "$base" worktree add -q --detach "$dir" "$commit" ||
		die "could not create a work tree at $dir"
}

main() {
	local work="$CACHE_DIR/work/series" upto="" pick="" none=0 quiet=0 opts
	local base i p n scratch commit patches=() chosen=()

	opts=$(getopt -o ho:n:p:d:q -l help,work-dir:,upto:,pick:,none,patches:,quiet -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		-o | --work-dir) work="$2"; shift 2 ;;
		-n | --upto) upto="$2"; shift 2 ;;
		-p | --pick) pick="$2"; shift 2 ;;
		--none) none=1; shift ;;
		-d | --patches) PATCH_DIR="$2"; shift 2 ;;
		-q | --quiet) quiet=1; shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	[[ -z "$upto" || "$upto" =~ ^[0-9]+$ ]] || die "--upto takes a number, not '$upto'"
	[[ -z "$pick" || "$pick" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--pick takes numbers separated by commas, not '$pick'"
	need_tools git

	mapfile -t patches < <(series_patches "$PATCH_DIR")
	[[ ${#patches[@]} -gt 0 ]] || die "$PATCH_DIR/series lists no patch"
	if [[ $none -eq 1 ]]; then
		chosen=()
	elif [[ -n "$pick" ]]; then
		for n in ${pick//,/ }; do
			((n >= 1 && n <= ${#patches[@]})) || die "--pick $n: the series has ${#patches[@]} patches"
			chosen+=("${patches[n - 1]}")
		done
	else
		n=${upto:-${#patches[@]}}
		((n <= ${#patches[@]})) || die "--upto $n: the series has ${#patches[@]} patches"
		chosen=("${patches[@]:0:n}")
	fi

	base=$(ensure_base)
	work=$(realpath -m "$work")
	case "$work/" in
	"$REPO_DIR"/*) die "the work tree must be outside this repository: $work" ;;
	esac
	scratch="$CACHE_DIR/work/.scratch"
	[[ "$work" != "$scratch" ]] || die "$scratch is reserved"

	# git am runs in a scratch work tree; the target work tree is then
	# moved to the result with a checkout, which rewrites only the files
	# that differ, so that builds in it stay incremental.
	reset_worktree "$base" "$scratch"
	i=0
	for p in "${chosen[@]}"; do
		i=$((i + 1))
		[[ $quiet -eq 1 ]] || log "applying [$i/${#chosen[@]}] ${p##*/}"
		if ! git_fixed -C "$scratch" am -q --committer-date-is-author-date "$p" >"$scratch.am.log" 2>&1; then
			git -C "$scratch" am --abort >/dev/null 2>&1 || true
			die "${p##*/} does not apply: $(grep -m1 -E 'error|patch failed' "$scratch.am.log" || tail -n1 "$scratch.am.log") (nothing changed in $work)"
		fi
	done
	rm -f "$scratch.am.log"
	commit=$(git -C "$scratch" rev-parse HEAD)

	reset_worktree "$base" "$work" "$commit"
	[[ $quiet -eq 1 ]] || log "applied ${#chosen[@]} patch(es) onto $(git -C "$base" rev-parse --short "$BASE_REF") in $work (HEAD $(git -C "$work" rev-parse --short HEAD))"
	printf '%s\n' "$work"
}

main "$@"
