#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Move a tree's pins (scripts/pins/<tree>) to another Debian version of its
# packages: the base, imported and checked with every patch of the tree,
# and the re-exported series.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

usage() {
	tree_vars "$DEFAULT_TREE"
	cat <<EOT
Usage: $PROG --version VER [OPTIONS]

Move the pins of a tree (scripts/pins/<tree>) to the Debian version VER of
its packages, in these steps; the first that fails stops the run with one
error line and leaves the repository as it was:
  1. read VER and its sha256 from the archive's signed index (apt-cache
     show, through the private apt configuration of the package's suite
     when the tree has one) for the base (TREE_PKG) and for Debian's
     kernel configurations of every pinned architecture
     (TREE_DEBCONFIG_PKG);
  2. download and import the base at VER (scripts/get-base.sh does the
     same), which gives the new base commit;
  3. git am the series onto it, patch by patch; then check that the
     negative control (the test patches alone on the base) and every
     patch of kunit/<tree>/broken/ and kunit/<tree>/class/ still apply;
  4. write scripts/pins/<tree> and re-export patches/<tree>/ from the
     applied series (scripts/export-series.sh);
  5. say, per patch, what the re-export changed: nothing, line offsets
     only, or its context (a real change: review it).
Prose that quotes measured figures (README.md, scripts/cover/<tree>.txt)
is not rewritten: it says which version it was measured on.

A new tree (an entry in the tree table, its series in patches/<tree>/, no
scripts/pins/<tree> yet) gets its first pins the same way; its Debian
configurations are pinned for every architecture of the arch table.

Options:
      --version VER     the Debian version to pin (required; $DEFAULT_TREE now:
                        $TREE_PKG $TREE_VERSION)
      --tree TREE       tree (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -n, --dry-run         step 1 only: print the pins VER would get; change
                        nothing, download no package (only the index)
      --no-install      never run apt-get install, only say what is missing
  -h, --help            show this help

The cache is \$FORKFIX_CACHE ($CACHE_DIR).
EOT
}

WT=""
BACKUP=""
RESTORE=0
cleanup() {
	if [[ $RESTORE -eq 1 && -n "$BACKUP" ]]; then
		if [[ -f "$BACKUP/pin" ]]; then
			cp "$BACKUP/pin" "$PIN_FILE"
		else
			rm -f "$PIN_FILE"
		fi
		rm -rf "${TREE_PATCH_DIR:?}"
		cp -a "$BACKUP/patches" "$TREE_PATCH_DIR"
		log "restored scripts/pins/$TREE and patches/$TREE/"
	fi
	[[ -z "$WT" ]] || rm -f "$WT.am.log"
	if [[ -n "$WT" && -d "$WT" ]]; then
		git -C "$WT" am --abort >/dev/null 2>&1 || true
		git -C "$BASE_DIR" worktree remove --force "$WT" >/dev/null 2>&1 || rm -rf "${WT:?}"
		git -C "$BASE_DIR" worktree prune
	fi
	[[ -z "$BACKUP" ]] || rm -rf "$BACKUP"
}

# index_sha PKG VER [DEBARCH]: the sha256 of PKG=VER in the index APT_OPTS
# names; die listing what the index offers when it lacks VER.
index_sha() {
	local pkg="$1" ver="$2" debarch="$3" where="$4" versions sha

	versions=$(index_versions "$pkg" | paste -s -d ' ')
	grep -qxF -- "$ver" < <(tr ' ' '\n' <<<"$versions") ||
		die "$pkg $ver${debarch:+ ($debarch)} is not in $where; on offer: ${versions:-none} (nothing changed)"
	sha=$(apt-cache "${APT_OPTS[@]}" show "$pkg=$ver" 2>/dev/null | awk '/^SHA256:/ {print $2; exit}')
	[[ "$sha" =~ ^[0-9a-f]{64}$ ]] || die "the index gives no sha256 for $pkg=$ver${debarch:+ ($debarch)}"
	INDEX_SHA="$sha"
}

# subject_of PATCH: its Subject: line, prefix removed.
subject_of() {
	sed -n 's/^Subject: \[[^]]*\] //p' "$1" | head -n1
}

# apply_series: git am every patch of the series onto the new base in WT,
# stopping at the first that does not apply.
apply_series() {
	local p i=0

	for p in "${SERIES[@]}"; do
		i=$((i + 1))
		log "applying [$i/${#SERIES[@]}] ${p##*/}"
		if ! git_fixed -C "$WT" am -q --committer-date-is-author-date "$p" >"$WT.am.log" 2>&1; then
			die "patch $i ($(subject_of "$p")) does not apply to $TREE_PKG $NEW: $(grep -m1 -E 'error|patch failed' "$WT.am.log" || tail -n1 "$WT.am.log") (the pin stays at $TREE_VERSION)"
		fi
	done
	rm -f "$WT.am.log"
}

# check_applies WHAT COMMIT PATCH...: the patches apply, one after the
# other, to COMMIT (git apply in WT, then undone; nothing committed).
check_applies() {
	local what="$1" commit="$2" out p
	shift 2

	git -C "$WT" checkout -q -f --detach "$commit"
	git -C "$WT" clean -q -f -d
	for p in "$@"; do
		out=$(git -C "$WT" apply "$p" 2>&1) ||
			die "$what does not apply to $TREE_PKG $NEW: ${p##*/}: $(head -n1 <<<"$out") (the pin stays at $TREE_VERSION)"
	done
	git -C "$WT" checkout -q -f --detach "$commit"
	git -C "$WT" clean -q -f -d
	log "applies: $what"
}

# check_extras SERIES_HEAD: the negative control, the broken variants and
# the class patches apply where the scripts put them.
check_extras() {
	local head="$1" control=() p

	control=("${SERIES[@]:0:TREE_INFRA_PATCHES}" "${SERIES[-1]}")
	check_applies "the negative control (the test patches alone)" "$BASE_REF" "${control[@]}"
	for p in "$TREE_KUNIT_DIR"/broken/*.patch; do
		[[ -f "$p" ]] || continue
		check_applies "kunit/$TREE/broken/${p##*/} on the series" "$head" "$p"
	done
	if compgen -G "$TREE_KUNIT_DIR/class/*.patch" >/dev/null; then
		check_applies "kunit/$TREE/class/ on the series" "$head" "$TREE_KUNIT_DIR"/class/*.patch
		check_applies "kunit/$TREE/class/ on the negative control" "$BASE_REF" \
			"${control[@]}" "$TREE_KUNIT_DIR"/class/*.patch
	fi
	git -C "$WT" checkout -q -f --detach "$head"
}

# write_pins FILE: the pin file of the new version.
write_pins() {
	local file="$1" a

	{
		printf '# The Debian packages tree %s is built on, as pinned: written by\n' "$TREE"
		printf '# scripts/repin.sh, read by scripts/lib/trees.sh.  One "KEY VALUE..." a line.\n'
		printf 'version %s\n' "$NEW"
		printf 'source-sha256 %s\n' "$NEW_SHA"
		printf 'base-commit %s\n' "$NEW_COMMIT"
		for a in "${!NEW_CONFIG_SHA[@]}"; do
			printf 'config-sha256 %s %s\n' "$a" "${NEW_CONFIG_SHA[$a]}"
		done | sort
	} >"$file.tmp"
	mv "$file.tmp" "$file"
}

# what_changed OLD NEW: how the re-export changed one patch.
what_changed() {
	local old="$1" new="$2" strip='/^(index |base-commit: |Message-ID: |Message-Id: |In-Reply-To: |References: )/d; s/^@@ -[0-9,]+ \+[0-9,]+ @@/@@/'

	if cmp -s "$old" "$new"; then
		echo "unchanged"
	elif cmp -s <(sed -E "$strip" "$old") <(sed -E "$strip" "$new"); then
		echo "line offsets, blob ids or mail ids only"
	else
		echo "CONTEXT CHANGED: review it (git diff -- ${new#"$REPO_DIR"/})"
	fi
}

main() {
	local dry=0 opts debarch w p a old_ver head where

	NEW=""
	opts=$(getopt -o hn -l help,version:,dry-run,tree:,no-install -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--version) NEW="$2"; shift 2 ;;
		-n | --dry-run) dry=1; shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	PINS_OPTIONAL=1
	common_opts_check
	PIN_FILE="$REPO_DIR/scripts/pins/$TREE"
	if [[ ! -f "$PIN_FILE" && -n "$TREE_DEBCONFIG_PKG" ]]; then
		for a in "${KNOWN_ARCHES[@]}"; do
			arch_vars "$a"
			TREE_DEBCONFIG_SHA256+=("$DEBARCH:new")
		done
	fi
	[[ -n "$NEW" ]] || die "--version is required (see --help; the archive: scripts/get-base.sh --tree $TREE --list)"
	[[ "$NEW" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "--version takes a Debian version, not '$NEW'"
	old_ver="$TREE_VERSION"
	[[ $dry -eq 1 || "$NEW" != "$old_ver" ]] ||
		{ log "$TREE is already pinned to $TREE_PKG $NEW: nothing to do"; exit 0; }
	ensure_packages base apply
	need_tools apt-cache sha256sum

	# 1. The index.
	base_apt_setup
	where="the machine's apt sources"
	[[ -z "$TREE_APT_SUITE" ]] || where="$TREE_APT_SUITE"
	index_sha "$TREE_PKG" "$NEW" "" "$where"
	NEW_SHA="$INDEX_SHA"
	log "$TREE_PKG $NEW: sha256 $NEW_SHA"
	declare -gA NEW_CONFIG_SHA=()
	for w in "${TREE_DEBCONFIG_SHA256[@]}"; do
		debarch="${w%%:*}"
		apt_private "$TREE_DEBCONFIG_SUITE" "$TREE_DEBCONFIG_MIRROR" "$debarch"
		index_sha "$TREE_DEBCONFIG_PKG" "$NEW" "$debarch" "$TREE_DEBCONFIG_SUITE"
		NEW_CONFIG_SHA[$debarch]="$INDEX_SHA"
		log "$TREE_DEBCONFIG_PKG $NEW ($debarch): sha256 $INDEX_SHA"
	done
	if [[ $dry -eq 1 ]]; then
		printf 'version %s\nsource-sha256 %s\n' "$NEW" "$NEW_SHA"
		for debarch in "${!NEW_CONFIG_SHA[@]}"; do
			printf 'config-sha256 %s %s\n' "$debarch" "${NEW_CONFIG_SHA[$debarch]}"
		done | sort
		log "dry run: base-commit is known after the import; nothing changed"
		return 0
	fi

	# 2. The base.
	take_lock "repin-$TREE"
	base_fetch "$NEW" "$NEW_SHA"
	NEW_COMMIT="$BASE_COMMIT"
	log "base commit of $NEW: $NEW_COMMIT (Linux $(kernel_version "$BASE_DIR"))"

	# 3. The series and the patches that go with it.
	series_patches
	trap cleanup EXIT
	WT="$TREE_WORK/repin"
	mkdir -p "$TREE_WORK"
	[[ ! -e "$WT" ]] || git -C "$BASE_DIR" worktree remove --force "$WT" >/dev/null 2>&1 || rm -rf "${WT:?}"
	git -C "$BASE_DIR" worktree prune
	git -C "$BASE_DIR" worktree add -q --detach "$WT" "$BASE_REF" ||
		die "could not create a work tree at $WT"
	apply_series
	head=$(git -C "$WT" rev-parse HEAD)
	check_extras "$head"

	# 4. Pins and re-export; restored if anything fails from here.
	BACKUP=$(mktemp -d)
	[[ ! -f "$PIN_FILE" ]] || cp "$PIN_FILE" "$BACKUP/pin"
	# The whole directory: prerequisite series and the DEP-3 form too.
	cp -a "$TREE_PATCH_DIR" "$BACKUP/patches"
	RESTORE=1
	write_pins "$PIN_FILE"
	"$REPO_DIR/scripts/export-series.sh" --tree "$TREE" --work-dir "$WT" >"$BACKUP/export.log" 2>&1 ||
		die "export-series.sh failed: $(grep -m1 ': error: ' "$BACKUP/export.log" || tail -n1 "$BACKUP/export.log")"
	RESTORE=0

	# 5. What changed.
	while IFS= read -r p; do
		log "  ${p#"$BACKUP/patches/"}: $(what_changed "$p" "$TREE_PATCH_DIR/${p#"$BACKUP/patches/"}")"
	done < <(find "$BACKUP/patches" -name '*.patch' ! -path '*/dep3/*' | sort)
	log "$TREE moved from $TREE_PKG ${old_ver:-(no pin)} to $NEW (base-commit $NEW_COMMIT)."
	log "next: review 'git diff', run scripts/test.sh --tree $TREE, update the prose that names the version"
}

main "$@"
