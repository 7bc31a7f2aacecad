# shellcheck shell=bash
# Every variable here is set for the scripts that source the file.
# shellcheck disable=SC2034
# SPDX-License-Identifier: GPL-2.0
#
# The trees the project ships a series for, and where their files live.
# Adding a tree is an entry in tree_vars plus patches/<tree>/,
# kunit/<tree>/ and scripts/cover/<tree>.txt.  Sourced after common.sh.

KNOWN_TREES=(6.12.y mainline)
DEFAULT_TREE=6.12.y

# The broken variants that both trees have, each caught by the message of
# the check it breaks (kunit/<tree>/broken/NAME.patch).
BROKEN_COMMON=($'charge-leak\tpages of commit charge not given back'
	       $'rss-left\tRSS counter MM_FILEPAGES is 1'
	       $'oom-skip-clear\tMMF_OOM_SKIP is not set'
	       $'unstable-clear\tMMF_UNSTABLE is not set'
	       $'pgtables-left\t[1-9][0-9]* bytes of page tables left'
	       $'stop-unclosed\tcopies of the stop VMA opened [1-9][0-9]* times, closed 0'
	       $'parent-closed\tthe teardown closed VMAs of the parent'
	       $'parent-harmed\tparent page at 0x[0-9a-f]+ lost its contents'
	       $'parent-flags\tparent VMA [0-9]+ at 0x[0-9a-f]+ changed flags'
	       $'rmap-left\t[1-9][0-9]* VMAs of the child still in anon_vma/i_mmap trees'
	       $'parent-unlinked\tparent VMA [0-9]+ at 0x[0-9a-f]+ is not in its file\'s i_mmap tree'
	       $'parent-anon-unlinked\tparent VMA [0-9]+ at 0x[0-9a-f]+: [1-9][0-9]* anon_vma chain entries not in their trees')

# tree_vars TREE: set the TREE_* variables of one tree.
#   TREE_PKG                Debian source package of the base
#   TREE_VERSION, TREE_SHA256, TREE_BASE_COMMIT, TREE_DEBCONFIG_SHA256
#                           the pins, read from scripts/pins/<tree> (see
#                           tree_pins; scripts/repin.sh moves them)
#   TREE_PKG_RE             ERE of the Debian source packages whose every
#                           version scripts/debian-versions.sh checks the
#                           series on: the base's package and its siblings
#   TREE_VERSION_SUITES     the suites debian-versions.sh reads by default
#   TREE_APT_SUITE          suite of the package when the machine's apt does
#                           not list it (reached through a private apt
#                           configuration in the cache), else empty
#   TREE_APT_MIRROR         the archive of that suite
#   TREE_DEBCONFIG_PKG, _SUITE, _MIRROR
#                           Debian's kernel configurations of the same
#                           version (linux-config-X.Y, per architecture),
#                           their suite and archive; their pinned sha256
#                           per architecture come from the pin file
#   TREE_DEBCONFIG_TARGETS  what scripts/debian-configs.sh builds with them
#   TREE_IMPORT_*           fixed identity and date of the import commit
#   TREE_SUITE              KUnit suite name
#   TREE_KCONFIG            config symbol of the suite
#   TREE_CONFIG             extra config lines every kernel of the tree gets
#   TREE_PREFIX             subject prefix of the exported patches
#   TREE_CHANGE_ID          b4 change-id of the series
#   TREE_PREREQS            "NAME<TAB>CHANGE-ID<TAB>N": series of their own
#                           that the tree's series depends on, each posted
#                           to its own maintainers with its own cover
#                           letter (scripts/cover/<tree>-NAME.txt), in
#                           patches/<tree>/NAME/: the first N commits of
#                           the work tree, in this order, then the tree's
#                           series.  Everything that applies the series
#                           applies them first (series_patches)
#   TREE_MAIL_TO            To: of every mail; empty: the maintainers
#                           scripts/get_maintainer.pl names (the rest, and
#                           all of them when this is set, go to Cc:)
#   TREE_SPARSE_SUITE, _MIRROR
#                           the suite whose Debian source package of sparse
#                           check-robot.sh builds for this tree's C=1 builds;
#                           empty: the machine's sparse.  Either way, a
#                           kernel that refuses the checker fails the build
#   TREE_DEP3               1: export-series.sh also writes the DEP-3 form
#                           of the series (patches/<tree>/dep3/), which
#                           check-apply.sh checks and applies with quilt
#   TREE_MAINT_TREE         the tree whose get_maintainer.pl and MAINTAINERS
#                           are asked (empty: this one)
#   TREE_KDOC               FILE:FUNCTION pairs that must have kernel-doc
#   TREE_PRESENT            "FILE<TAB>PCRE<TAB>WHAT": must match (grep -zP)
#   TREE_ABSENT             "FILES<TAB>STRING": must not occur in FILES
#   TREE_BASE_REASON        ERE the failure of every teardown case on the
#                           base (base + test patches) must match
#   TREE_BASE_EXCEPT        cases that pass on the base too (the reference);
#                           at boot, before fault injection is set up, the
#                           allocation sweep is skipped and excepted as well
#   TREE_SWEEP_CASE         name of the allocation sweep case
#   TREE_SPLAT_RE           ERE of the splats only this tree prints (its
#                           own wording), added to the common ones of
#                           kernel.sh in SPLAT_RE
#   TREE_INFRA_PATCHES      how many patches at the head of the series fix
#                           the test infrastructure (KUnit itself): the
#                           negative control gets them with the suite
#   TREE_BROKEN             "NAME<TAB>ERE": kunit/<tree>/broken/NAME.patch,
#                           applied on top of the series, must make a case
#                           fail with a message matching ERE
#   TREE_QEMU_BROKEN        "NAME<TAB>ERE": kunit/<tree>/broken/NAME.patch,
#                           applied on top of the series, must make a check
#                           of run-qemu.sh's guest (init) fail with a
#                           message matching ERE (test.sh's qemu-broken)
#   TREE_SKIP_OK            "ARCHES<TAB>CASE<TAB>ERE": the cases that may
#                           skip on ARCHES (comma separated, or all), with
#                           a "# SKIP" reason matching ERE; any other skip
#                           fails a patched run (skip_specs)
#   TREE_CI, TREE_FULL      the steps of scripts/test.sh for the tree in
#                           the default (CI) tier and in --full, each
#                           STEP:ARCHES (apply: no arches); "series:all"
#                           also builds !MMU
tree_vars() {
	TREE="$1"
	TREE_CONFIG=()
	TREE_KDOC=()
	TREE_PRESENT=()
	TREE_ABSENT=()
	TREE_BASE_EXCEPT=()
	TREE_BROKEN=()
	TREE_SKIP_OK=()
	TREE_QEMU_BROKEN=()
	TREE_CI=()
	TREE_FULL=()
	TREE_APT_SUITE=""
	TREE_MAIL_TO=""
	TREE_MAINT_TREE=""
	TREE_DEP3=0
	TREE_SPARSE_SUITE=""
	TREE_SPARSE_MIRROR=""
	TREE_PREREQS=()
	TREE_INFRA_PATCHES=0
	TREE_APT_MIRROR=http://deb.debian.org/debian
	TREE_DEBCONFIG_PKG=""
	TREE_DEBCONFIG_SUITE=""
	TREE_DEBCONFIG_MIRROR=http://deb.debian.org/debian
	TREE_DEBCONFIG_SHA256=()
	TREE_DEBCONFIG_TARGETS=(mm/ kernel/fork.o kernel/events/)
	TREE_SPLAT_RE=""
	case "$TREE" in
	6.12.y)
		TREE_PKG=linux-source-6.12
		TREE_PKG_RE='linux-source-6\.12'
		TREE_VERSION_SUITES=(trixie trixie-security trixie-updates bookworm-security
				     bookworm-backports)
		TREE_IMPORT_NAME="Linux 6.12 base import"
		TREE_IMPORT_EMAIL="base@forkfix.invalid"
		TREE_IMPORT_DATE="2026-11-14T12:56:00+00:00"
		TREE_SUITE=fork_dup_mmap
		TREE_KCONFIG=FORK_DUP_MMAP_KUNIT_TEST
		# Not "6.12.y": that would read as a submission to stable.
		TREE_PREFIX="PATCH RFC 6.12-debian"
		TREE_CHANGE_ID="20261124-dup-mmap-teardown-6-12-4f1e2d7c9a05"
		# Hardening, not a fix of a crash the base still has, so not
		# stable material: to a distribution that carries such patches
		# on 6.12 (Debian's kernel team, which also gets the DEP-3
		# form), the mm people in Cc for review.
		TREE_MAIL_TO="debian-kernel@lists.debian.org"
		TREE_DEP3=1
		# 6.12's MAINTAINERS and .mailmap are out of date: ask mainline's.
		TREE_MAINT_TREE=mainline
		TREE_KDOC=(mm/memory.c:free_pgtables mm/vma.c:unmap_region
			   mm/vma.h:free_pgtables_vma_ok
			   mm/mmap.c:remove_mm_vmas mm/mmap.c:dup_mmap_abort)
		TREE_PRESENT=($'mm/internal.h\tvoid free_pgtables\\([^)]*unsigned long tree_max\tfree_pgtables() takes tree_max'
			      $'mm/vma.c\tvms->unmap_end, vms->vma_count, mm_wr_locked\tmunmap passes its side tree\'s count as tree_max'
			      $'mm/memory.c\tVM_WARN_ON_ONCE\\(!free_pgtables_vma_ok\\(tlb->mm, vma, ceiling\\)\\);\tfree_pgtables() checks the VMA it starts from (CONFIG_DEBUG_VM)'
			      $'mm/memory.c\tVM_WARN_ON_ONCE\\(next && !free_pgtables_vma_ok\\(tlb->mm, next, ceiling\\)\\);\tfree_pgtables() checks each VMA it reaches (CONFIG_DEBUG_VM)')
		TREE_ABSENT=($'kernel/fork.c\tXA_ZERO_ENTRY' $'mm/mmap.c mm/memory.c\txa_is_zero')
		TREE_BASE_REASON="entries left in the tree"
		TREE_BASE_EXCEPT=("no injection")
		TREE_SWEEP_CASE="each allocation in turn"
		# Where fault injection is not set up (at boot, under kunit.py)
		# the sweep's failures all land on sleeping allocations, which
		# it exempts.
		TREE_SKIP_OK=($'all\teach allocation in turn\tsleeping allocations are exempt'
			      $'um\tfork_fail_after_thp\tneeds CONFIG_TRANSPARENT_HUGEPAGE')
		# KUnit's UML config of 6.12 turns on PCI over virtio without a
		# device ID, whose init then warns ("No virtio device ID
		# configured for PCI"): kunit/6.12.y/.kunitconfig turns it off.
		# mm/swapfile.c of 6.12 also reports entries of unused swap.
		TREE_SPLAT_RE='Unused swap (file|offset) entry'
		TREE_BROKEN=("${BROKEN_COMMON[@]}" $'map-count-kept\tmap_count is [1-9]')
		# One charged page per failed fork, which neither kmemleak nor
		# the suite sees: the sweeps' memcg check must.
		TREE_QEMU_BROKEN=($'page-leak\tthe memcg of the sweep is still charged')
		# Debian's own kernel configurations, of the same version
		# (scripts/debian-configs.sh).
		TREE_DEBCONFIG_PKG=linux-config-6.12
		TREE_DEBCONFIG_SUITE=bookworm-security
		TREE_DEBCONFIG_MIRROR=http://deb.debian.org/debian-security
		TREE_CI=(apply series:x86_64 kunit:x86_64 kunit-base:x86_64 qemu:x86_64)
		TREE_FULL=(apply series:all robot "kunit:x86_64,arm64,um" kunit-base:all kunit-broken:x86_64
			   qemu:all qemu-5level:x86_64 qemu-base:all qemu-broken:all walk:all class:x86_64 debian:all
			   selftests:all stress:all)
		;;
	mainline)
		TREE_PKG=linux-source-7.3
		# Every 7.x: testing and unstable carry 7.2 as linux-source-7.2.
		TREE_PKG_RE='linux-source-7\.[0-9]+'
		TREE_VERSION_SUITES=(trixie-backports forky sid experimental)
		TREE_APT_SUITE=trixie-backports
		TREE_IMPORT_NAME="Linux 7.3 base import"
		TREE_IMPORT_EMAIL="base@forkfix.invalid"
		TREE_IMPORT_DATE="2026-11-26T12:00:00+00:00"
		TREE_SUITE=dup_mmap
		TREE_KCONFIG=DUP_MMAP_KUNIT_TEST
		TREE_PREFIX="PATCH"
		# 7.3's scripts/checker-valid.sh asks for __typeof_unqual__,
		# which the sparse Debian 12 serves (0.6.4) lacks: the kernel
		# would turn C=1 off.  sid's source package has it.
		TREE_SPARSE_SUITE=sid
		TREE_SPARSE_MIRROR=http://deb.debian.org/debian
		TREE_CHANGE_ID="20261126-dup-mmap-map-count-0b7d61e2c3a4"
		TREE_KDOC=(lib/kunit/test.c:kunit_init_parent_param_test mm/mmap.c:dup_mmap)
		# The KUnit fix goes to the KUnit maintainers on its own: it
		# makes KUnit run a failed parameterised case again from
		# debugfs, which the base's rerun needs as much.
		TREE_PREREQS=($'kunit\t20261207-kunit-param-rerun-7c41d09e5b3a\t1')
		TREE_INFRA_PATCHES=1
		# KUnit of 7.3 can skip the boot-time run (kunit.autorun),
		# and allnoconfig turns it off.
		TREE_CONFIG=(CONFIG_KUNIT_AUTORUN_ENABLED=y)
		TREE_PRESENT=($'mm/mmap.c\t__mt_destroy\\(&mm->mm_mt\\);\\s*(/\\*[^*]*\\*/\\s*)?mm->map_count = 0;\tdup_mmap() resets map_count after destroying the tree')
		TREE_BASE_REASON="map_count is [1-9]"
		# 7.3.4 already leaves the tree empty: a copy that never got a
		# VMA in passes there too.
		TREE_BASE_EXCEPT=("no injection" "no VMA copied"
				  "no VMA copied, the first at address 0")
		TREE_SWEEP_CASE="each allocation in turn"
		TREE_SKIP_OK=($'all\teach allocation in turn\tsleeping allocations are exempt'
			      $'um\tdup_mmap_fail_after_thp\tneeds CONFIG_TRANSPARENT_HUGEPAGE')
		# No map-count-kept: the base is that defect (the negative control).
		TREE_BROKEN=("${BROKEN_COMMON[@]}")
		TREE_DEBCONFIG_PKG=linux-config-7.3
		TREE_DEBCONFIG_TARGETS=(mm/ kernel/fork.o kernel/events/ lib/kunit/)
		TREE_DEBCONFIG_SUITE=trixie-backports
		TREE_CI=(apply series:x86_64 kunit:x86_64 kunit-base:x86_64)
		TREE_FULL=(apply series:all robot "kunit:x86_64,um" kunit-base:x86_64 kunit-broken:x86_64 qemu:all
			   qemu-5level:x86_64 qemu-base:all walk:all debian:all)
		;;
	*)
		die "unknown tree '$TREE' (known: ${KNOWN_TREES[*]})"
		;;
	esac
	tree_pins "$REPO_DIR/scripts/pins/$TREE"
	SPLAT_RE="$SPLAT_COMMON_RE${TREE_SPLAT_RE:+|$TREE_SPLAT_RE}"
	TREE_PATCH_DIR="$REPO_DIR/patches/$TREE"
	TREE_KUNIT_DIR="$REPO_DIR/kunit/$TREE"
	TREE_COVER="$REPO_DIR/scripts/cover/$TREE.txt"
	TREE_WORK="$CACHE_DIR/work/$TREE"
}

# tree_pins FILE: set the pins of the tree from FILE, "KEY VALUE..." lines
# (# starts a comment):
#   version V               TREE_VERSION, the Debian version of the base
#   source-sha256 SUM       TREE_SHA256, the sha256 of the base's .deb
#   base-commit ID          TREE_BASE_COMMIT, the commit its import gives
#   config-sha256 DEBARCH SUM
#                           one "DEBARCH:SUM" word of TREE_DEBCONFIG_SHA256
#                           per architecture of TREE_DEBCONFIG_PKG
# Dies on a missing file (unless PINS_OPTIONAL=1: repin.sh, for a new
# tree, then leaves the pins empty), an unknown key, a malformed value or a
# missing pin.
tree_pins() {
	local file="$1" key val rest n=0

	if [[ ! -f "$file" ]]; then
		# scripts/repin.sh writes the first pins of a new tree.
		if [[ "${PINS_OPTIONAL:-0}" == 1 ]]; then
			TREE_VERSION="" TREE_SHA256="" TREE_BASE_COMMIT=""
			TREE_DEBCONFIG_SHA256=()
			return 0
		fi
		die "no pin file for tree $TREE: $file (write it: scripts/repin.sh --tree $TREE --version VER)"
	fi
	TREE_VERSION="" TREE_SHA256="" TREE_BASE_COMMIT=""
	TREE_DEBCONFIG_SHA256=()
	while read -r key val rest || [[ -n "$key" ]]; do
		n=$((n + 1))
		[[ -n "$key" && "$key" != \#* ]] || continue
		case "$key" in
		version)
			[[ "$val" =~ ^[0-9][A-Za-z0-9.+~-]*$ && -z "$rest" ]] ||
				die "$file:$n: not a Debian version: $val $rest"
			TREE_VERSION="$val"
			;;
		source-sha256)
			[[ "$val" =~ ^[0-9a-f]{64}$ && -z "$rest" ]] || die "$file:$n: not a sha256: $val $rest"
			TREE_SHA256="$val"
			;;
		base-commit)
			[[ "$val" =~ ^[0-9a-f]{40}$ && -z "$rest" ]] || die "$file:$n: not a commit id: $val $rest"
			TREE_BASE_COMMIT="$val"
			;;
		config-sha256)
			[[ "$val" =~ ^[a-z0-9]+$ && "$rest" =~ ^[0-9a-f]{64}$ ]] ||
				die "$file:$n: expected 'config-sha256 DEBARCH SHA256'"
			TREE_DEBCONFIG_SHA256+=("$val:$rest")
			;;
		*)
			die "$file:$n: unknown key '$key'"
			;;
		esac
	done <"$file"
	[[ -n "$TREE_VERSION" && -n "$TREE_SHA256" && -n "$TREE_BASE_COMMIT" ]] ||
		die "$file lacks one of version, source-sha256, base-commit"
}

# Ref of the base commit inside the base repository.
BASE_REF="refs/tags/base"

# Run git with the fixed identity of the tree's import; used for every
# commit the scripts make.  No automatic gc: a detached "git gc --auto"
# would inherit the fds of our flock locks and hold them after we are done.
git_fixed() {
	GIT_AUTHOR_NAME="$TREE_IMPORT_NAME" GIT_AUTHOR_EMAIL="$TREE_IMPORT_EMAIL" \
	GIT_AUTHOR_DATE="$TREE_IMPORT_DATE" GIT_COMMITTER_NAME="$TREE_IMPORT_NAME" \
	GIT_COMMITTER_EMAIL="$TREE_IMPORT_EMAIL" GIT_COMMITTER_DATE="$TREE_IMPORT_DATE" \
	git -c core.autocrlf=false -c core.fileMode=true -c core.symlinks=true \
	    -c commit.gpgSign=false -c tag.gpgSign=false \
	    -c gc.auto=0 -c maintenance.auto=false "$@"
}

# series_dirs: set SERIES_DIRS to the directories of the tree's series in
# the order they apply: those of TREE_PREREQS, then patches/<tree>.
series_dirs() {
	local entry

	SERIES_DIRS=()
	for entry in "${TREE_PREREQS[@]}"; do
		SERIES_DIRS+=("$TREE_PATCH_DIR/${entry%%$'\t'*}")
	done
	SERIES_DIRS+=("$TREE_PATCH_DIR")
}

# series_of DIR: append the patches of DIR's series file to SERIES.
series_of() {
	local dir="$1" line n=0

	[[ -f "$dir/series" ]] || die "no series file in $dir"
	while IFS= read -r line || [[ -n "$line" ]]; do
		line="${line%%#*}"
		line="${line//[[:space:]]/}"
		[[ -n "$line" ]] || continue
		[[ -f "$dir/$line" ]] || die "$dir/series lists $line, which does not exist"
		SERIES+=("$dir/$line")
		n=$((n + 1))
	done <"$dir/series"
	[[ $n -gt 0 ]] || die "$dir/series lists no patch"
}

# series_patches [DIR]: set SERIES to the patches of the tree's series,
# its prerequisite series first (TREE_PREREQS), or to those of DIR alone,
# in the order of the series files.
series_patches() {
	local dir

	SERIES=()
	if [[ $# -gt 0 && -n "$1" ]]; then
		series_of "$1"
		return
	fi
	series_dirs
	for dir in "${SERIES_DIRS[@]}"; do
		series_of "$dir"
	done
}

# tree_fragment DEST: the config lines every kernel of the tree gets: its
# extras and, unless WITH_SUITE=0 (the benchmark), its KUnit suite.
tree_fragment() {
	local dest="$1"

	{
		printf '# Generated from the tree table (scripts/lib/trees.sh), tree %s.\n' "$TREE"
		[[ "${WITH_SUITE:-1}" == 0 ]] || printf 'CONFIG_%s=y\n' "$TREE_KCONFIG"
		[[ ${#TREE_CONFIG[@]} -eq 0 ]] || printf '%s\n' "${TREE_CONFIG[@]}"
	} >"$dest.tmp"
	# Unchanged content keeps its time stamp.
	if cmp -s "$dest.tmp" "$dest"; then
		rm -f "$dest.tmp"
	else
		mv "$dest.tmp" "$dest"
	fi
}

# skip_specs ARCH: SKIP_SPECS, the "CASE<TAB>ERE" words of TREE_SKIP_OK that
# hold on ARCH (the arguments of kunit_json.py skips).
skip_specs() {
	local arch="$1" entry arches rest

	SKIP_SPECS=()
	for entry in "${TREE_SKIP_OK[@]}"; do
		arches="${entry%%$'\t'*}"
		rest="${entry#*$'\t'}"
		[[ "$arches" == all || ",$arches," == *",$arch,"* ]] && SKIP_SPECS+=("$rest")
	done
	return 0
}
