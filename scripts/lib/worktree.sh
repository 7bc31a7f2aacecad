# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Work trees: the series applied onto the base, one git work tree per tree
# and purpose under $CACHE_DIR/work/<tree>/<purpose>, each used under its
# own lock.  Build directories live inside the work tree they build
# (<work tree>/.build-<name>, ignored by git), so that the kernel builds
# with srctree=".." and the base and patched builds of a purpose compile
# with the same command lines: ccache shares their objects.  Sourced after
# common.sh, trees.sh and base.sh.

# reset_worktree DIR [COMMIT]: make DIR a clean work tree of the base
# repository at COMMIT (default: the base tag), reusing it if it is one.
# Build directories (.build-*) survive; every other file git does not
# track goes, ignored ones too (Debian's .gitignore ignores everything, so
# a file that quilt created would outlive a plain git clean).
reset_worktree() {
	local dir="$1" commit="${2:-$BASE_REF}" top

	top=$(git -C "$dir" rev-parse --show-toplevel 2>/dev/null || true)
	if [[ "$top" == "$dir" ]] &&
	   [[ "$(git -C "$dir" rev-parse --git-common-dir 2>/dev/null)" -ef "$BASE_DIR/.git" ]]; then
		git -C "$dir" am --abort >/dev/null 2>&1 || true
		git -C "$dir" checkout -q -f --detach "$commit"
		git -C "$dir" clean -q -f -d -x -e '/.build-*'
		return 0
	fi
	if [[ -e "$dir" ]]; then
		git -C "$BASE_DIR" worktree remove --force "$dir" 2>/dev/null || rm -rf "${dir:?}"
	fi
	git -C "$BASE_DIR" worktree prune
	mkdir -p "$(dirname "$dir")"
	git -C "$BASE_DIR" worktree add -q --detach "$dir" "$commit" ||
		die "could not create a work tree at $dir"
}

# apply_patches DIR PATCH...: git am the patches onto the base in the
# tree's scratch work tree, then check DIR out at the result, which
# rewrites only the files that differ (builds in DIR stay incremental).  On
# a patch that does not apply, die naming it; DIR is left as it was.
apply_patches() {
	local dir="$1" scratch="$TREE_WORK/.scratch" p i=0 commit lock
	shift

	[[ "$dir" != "$scratch" ]] || die "$scratch is reserved"
	case "$dir/" in
	"$REPO_DIR"/*) die "the work tree must be outside this repository: $dir" ;;
	esac
	lock=$(lock_name "$scratch")
	take_lock "$lock"
	reset_worktree "$scratch"
	for p in "$@"; do
		i=$((i + 1))
		[[ "${APPLY_QUIET:-0}" == 1 ]] || log "applying [$i/$#] ${p##*/}"
		if ! git_fixed -C "$scratch" am -q --committer-date-is-author-date "$p" >"$scratch.am.log" 2>&1; then
			git -C "$scratch" am --abort >/dev/null 2>&1 || true
			die "$TREE: ${p##*/} does not apply: $(grep -m1 -E 'error|patch failed' "$scratch.am.log" || tail -n1 "$scratch.am.log") (nothing changed in $dir)"
		fi
	done
	rm -f "$scratch.am.log"
	commit=$(git -C "$scratch" rev-parse HEAD)
	release_lock "$lock"
	reset_worktree "$dir" "$commit"
}

# prepare_tree VARIANT PURPOSE: lock the work tree of PURPOSE for the rest
# of this run and put VARIANT in it: "patched" (the whole series),
# "pristine" (the pinned base, nothing applied), "base"
# (the base with only the test patches: the KUnit suite, the last of the
# series, and the TREE_INFRA_PATCHES at its head that fix KUnit itself;
# the negative control) or "broken:NAME" (the series and kunit/<tree>/broken/NAME.patch,
# a deliberately broken teardown the suite must catch; its work tree is
# broken-PURPOSE), or "class:base" / "class:series" (the base variant or
# the whole series, plus the test-only patches of kunit/<tree>/class/ for
# scripts/class-race.sh; work trees class-base-PURPOSE, class-series-PURPOSE).
# Sets TREE_DIR.
prepare_tree() {
	local variant="$1" purpose="$2" patches=() dir="$1"

	base_fetch
	series_patches
	patches=("${SERIES[@]}")
	case "$variant" in
	patched) ;;
	pristine) patches=() ;;
	base)
		[[ $TREE_INFRA_PATCHES -lt $((${#patches[@]} - 1)) ]] ||
			die "internal: $TREE: $TREE_INFRA_PATCHES infrastructure patches leave no fix in the series"
		patches=("${patches[@]:0:TREE_INFRA_PATCHES}" "${patches[-1]}")
		;;
	broken:*)
		dir=broken
		patches+=("$TREE_KUNIT_DIR/broken/${variant#broken:}.patch")
		[[ -f "${patches[-1]}" ]] || die "no broken variant ${variant#broken:} for $TREE: ${patches[-1]}"
		;;
	class:base | class:series)
		dir="class-${variant#class:}"
		compgen -G "$TREE_KUNIT_DIR/class/*.patch" >/dev/null ||
			die "$TREE has no test-only class patches ($TREE_KUNIT_DIR/class/*.patch)"
		[[ "$variant" == class:series ]] ||
			patches=("${patches[@]:0:TREE_INFRA_PATCHES}" "${patches[-1]}")
		patches+=("$TREE_KUNIT_DIR"/class/*.patch)
		;;
	*) die "internal: unknown variant '$variant'" ;;
	esac
	TREE_DIR="$TREE_WORK/$dir-$purpose"
	take_lock "$(lock_name "$TREE_DIR")"
	APPLY_QUIET=1 apply_patches "$TREE_DIR" "${patches[@]}"
}
