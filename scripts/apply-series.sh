#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Apply a tree's series with 'git am' onto its pinned base, in a work tree
# outside this repository.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Apply the patches listed in patches/<tree>/series with 'git am' onto the
tree's pinned base (see get-base.sh) and leave the result in a git work
tree.  The patches are applied in a scratch work tree; the target work tree
is then created, or, if it exists, reset and checked out at the result,
which rewrites only the files that differ (builds in it stay incremental).
Local changes in it are lost.  On a patch that does not apply, the script
fails naming the patch and the target work tree is left as it was.  The
target is locked while the script runs: a run of another script using the
same work tree waits, and so does this one.

Options:
      --tree TREE      tree (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -o, --work-dir DIR   where to create the work tree
                       (default: \$CACHE_DIR/work/<tree>/series)
      --upto N         stop after patch N (1-based; default: all)
  -p, --pick N[,N...]  apply only these patches, in this order (for example
                       the test patches alone onto the base as a control)
      --none           apply nothing: a work tree of the base only
  -d, --patches DIR    directory with the series file (default: patches/<tree>)
      --no-install     never run apt-get install, only say what is missing
  -q, --quiet          print only the work tree directory
  -h, --help           show this help

Output (stdout): the work tree directory.
EOT
}

main() {
	local work="" upto="" pick="" none=0 quiet=0 opts patch_dir="" n chosen=()

	opts=$(getopt -o ho:p:d:q -l help,tree:,work-dir:,upto:,pick:,none,patches:,no-install,quiet \
		-n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		-o | --work-dir) work="$2"; shift 2 ;;
		--upto) upto="$2"; shift 2 ;;
		-p | --pick) pick="$2"; shift 2 ;;
		--none) none=1; shift ;;
		-d | --patches) patch_dir="$2"; shift 2 ;;
		-q | --quiet) quiet=1; shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	[[ -z "$upto" || "$upto" =~ ^[0-9]+$ ]] || die "--upto takes a number, not '$upto'"
	[[ -z "$pick" || "$pick" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--pick takes numbers separated by commas, not '$pick'"
	ensure_packages base

	series_patches "$patch_dir"
	if [[ $none -eq 1 ]]; then
		chosen=()
	elif [[ -n "$pick" ]]; then
		for n in ${pick//,/ }; do
			((n >= 1 && n <= ${#SERIES[@]})) || die "--pick $n: the series has ${#SERIES[@]} patches"
			chosen+=("${SERIES[n - 1]}")
		done
	else
		n=${upto:-${#SERIES[@]}}
		((n <= ${#SERIES[@]})) || die "--upto $n: the series has ${#SERIES[@]} patches"
		chosen=("${SERIES[@]:0:n}")
	fi

	base_fetch
	work=$(realpath -m "${work:-$TREE_WORK/series}")
	take_lock "$(lock_name "$work")"
	APPLY_QUIET=$quiet apply_patches "$work" "${chosen[@]}"
	[[ $quiet -eq 1 ]] || log "applied ${#chosen[@]} patch(es) of $TREE onto ${BASE_COMMIT:0:12} in $work (HEAD $(git -C "$work" rev-parse --short HEAD))"
	printf '%s\n' "$work"
}

main "$@"
