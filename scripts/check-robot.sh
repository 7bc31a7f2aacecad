#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a tree's series patch by patch the way the kernel test robot builds
# posted patches (W=1, sparse, clang, 32-bit architectures) and compare the
# warnings in the files the series touches with the base's.  One line per
# build and patch, then "N passed, N failed".
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

DEFAULT_BUILDS=(gcc clang arm i386)

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Apply the tree's series (prerequisite series first) onto its pinned base in
the work tree \$CACHE_DIR/work/<tree>/robot and build the base and then
every patch, as the kernel test robot builds posted patches:
  gcc    x86_64, gcc with W=1 and sparse (C=1): the objects of the C files
         the series touches (tinyconfig + scripts/configs/check.config and
         the suite); a kernel that refuses the checker ("C=1 specified,
         but sparse is not available or not up to date") fails the build.
         Debian 12's sparse (0.6.4) is too old for 7.3: for a tree that
         names a suite for it (mainline: sid), sparse is built once from
         that suite's Debian source package into \$CACHE_DIR/tools/;
  clang  x86_64, clang-19 (LLVM=-19) with W=1: the same objects;
  arm    32-bit ARM with LPAE, as Debian's armmp-lpae kernel (the one
         architecture Debian ships a 6.12 kernel for where
         USER_PGTABLES_CEILING is not 0), gcc with W=1: the whole kernel
         (tinyconfig + scripts/configs/robot-32.config);
  i386   32-bit x86, gcc with W=1: the whole kernel (the same configs).
The KUnit suites need 64BIT: on arm and i386 only the series' kernel code
is built, not the suite.  Before each build the objects of the touched C
files are removed, so that their warnings are printed again.  A build
fails a patch if make fails, or if the patch has a warning (gcc, clang or
sparse; file and text, line numbers aside) in a touched file that the base
does not have.  Warnings in lines the base already had are counted and
shown, not failed.  Logs and the warning lists: \$CACHE_DIR/logs/robot-<tree>.

Options:
      --tree TREE     tree to check (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
      --builds LIST   builds, comma separated, or all (default: all =
                      ${DEFAULT_BUILDS[*]})
  -j, --jobs N        make -j (default: $(nproc))
      --no-install    never run apt-get, only say what is missing
  -h, --help          show this help
EOT
}

# robot_vars NAME: the build NAME as R_KARCH (ARCH=), R_MAKE (the other
# make variables, array), R_FRAGS (config fragments on tinyconfig), R_TARGET
# (objects, or the make target of the whole kernel) and R_WHAT.
robot_vars() {
	local configs="$REPO_DIR/scripts/configs"

	case "$1" in
	gcc)
		R_KARCH=x86_64
		R_MAKE=(CC="ccache gcc" W=1 C=1)
		R_FRAGS=("$configs/check.config")
		R_TARGET=objects
		R_WHAT="x86_64 gcc W=1 + sparse"
		if [[ -n "${SPARSE:-}" ]]; then
			R_MAKE+=(CHECK="$SPARSE")
			R_WHAT="x86_64 gcc W=1 + sparse $SPARSE_VERSION ($TREE_SPARSE_SUITE)"
		fi
		;;
	clang)
		R_KARCH=x86_64
		R_MAKE=(LLVM=-19 CC="ccache clang-19" W=1)
		R_FRAGS=("$configs/check.config")
		R_TARGET=objects
		R_WHAT="x86_64 clang-19 W=1"
		;;
	arm)
		R_KARCH=arm
		R_MAKE=(CROSS_COMPILE=arm-linux-gnueabihf- CC="ccache arm-linux-gnueabihf-gcc" W=1)
		R_FRAGS=("$configs/robot-32.config" "$configs/robot-arm.config")
		R_TARGET=vmlinux
		R_WHAT="arm (LPAE) gcc W=1, whole kernel"
		;;
	i386)
		R_KARCH=i386
		R_MAKE=(CC="ccache gcc" W=1)
		R_FRAGS=("$configs/robot-32.config")
		R_TARGET=vmlinux
		R_WHAT="i386 gcc W=1, whole kernel"
		;;
	*)
		die "unknown build '$1' (known: ${DEFAULT_BUILDS[*]}, all)"
		;;
	esac
}

# robot_make OUT TARGET...: make in the work tree for the current build.
robot_make() {
	local out="$1"
	shift

	make -C "$TREE_DIR" O="$out" ARCH="$R_KARCH" "${R_MAKE[@]}" -j"$JOBS" "$@"
}

# robot_config OUT: tinyconfig + R_FRAGS + the tree's lines, for the
# current build; every requested option must be set as asked (a silently
# dropped option would hide code from the build), for the builds with the
# suite's symbol on the complete series only (the symbol comes with its
# patch).
robot_config() {
	local out="$1" frags bad

	mkdir -p "$out"
	tree_fragment "$out/forkfix-tree.config"
	frags=("${R_FRAGS[@]}")
	# The suite needs 64BIT: the 32-bit builds leave its symbol out.
	if [[ "$R_TARGET" == objects ]]; then
		frags+=("$out/forkfix-tree.config")
	fi
	robot_make "$out" tinyconfig
	(cd "$TREE_DIR" && env ARCH="$R_KARCH" scripts/kconfig/merge_config.sh -m -O "$out" \
		"$out/.config" "${frags[@]}")
	robot_make "$out" olddefconfig
	[[ "$LAST" == 1 || "$R_TARGET" != objects ]] || return 0
	bad=$(check_options "$out/.config" "${frags[@]}") || {
		echo "options not in .config as requested: $bad"
		return 1
	}
}

# debian_sparse: build sparse from the Debian source package of
# TREE_SPARSE_SUITE, once, into $CACHE_DIR/tools/sparse-<version>/ (apt
# checks the download against the suite's signed index); sets SPARSE and
# SPARSE_VERSION.  Under the lock "tools".
debian_sparse() {
	local ver dir tmp orig=()

	need_tools apt-get apt-cache tar make gcc
	apt_private "$TREE_SPARSE_SUITE" "$TREE_SPARSE_MIRROR" "" src
	ver=$(apt-cache "${APT_OPTS[@]}" showsrc sparse 2>/dev/null | awk '$1 == "Version:" { print $2; exit }')
	[[ -n "$ver" ]] || die "$TREE_SPARSE_SUITE has no source package of sparse"
	dir="$CACHE_DIR/tools/sparse-${ver//\~/_}"
	SPARSE="$dir/sparse"
	SPARSE_VERSION="$ver"
	take_lock tools
	if [[ ! -x "$SPARSE" ]]; then
		log "building sparse $ver from $TREE_SPARSE_SUITE's source package into $dir"
		mkdir -p "$CACHE_DIR/tools"
		tmp=$(mktemp -d "$CACHE_DIR/tools/tmp.sparse.XXXXXX")
		if ! (cd "$tmp" && apt-get -q "${APT_OPTS[@]}" source --download-only "sparse=$ver") \
			>"$tmp/download.log" 2>&1; then
			rm -rf "$tmp"
			die "cannot download the source of sparse $ver from $TREE_SPARSE_SUITE"
		fi
		orig=("$tmp"/sparse_*.orig.tar.*)
		mkdir "$tmp/src"
		if ! tar -xf "${orig[0]}" -C "$tmp/src" --strip-components=1 ||
		   ! make -C "$tmp/src" -j"$JOBS" sparse >"$tmp/build.log" 2>&1; then
			rm -rf "$tmp"
			die "cannot build sparse $ver from ${orig[0]##*/}"
		fi
		mkdir -p "$dir"
		cp "$tmp/src/sparse" "$SPARSE.new"
		mv "$SPARSE.new" "$SPARSE"
		rm -rf "$tmp"
	fi
	release_lock tools
}

# checker_refused LOG: did the kernel's make, in LOG, turn C=1 off because
# the checker is missing or too old for it?  Dies if LOG cannot be read.
checker_refused() {
	local n

	n=$(count_matches 'C=[12] specified, but .* is not available or not up to date' "$1") ||
		die "cannot read the make log $1"
	[[ "$n" -gt 0 ]]
}

# robot_build BUILD SHORT: configure and build the checked-out commit for
# BUILD, the warnings of the touched files in $LOG_DIR/warnings-BUILD-SHORT.
robot_build() {
	local build="$1" short="$2" out objs=() o

	robot_vars "$build"
	out="$TREE_DIR/.build-robot-$build"
	robot_config "$out"
	for o in "${OBJS[@]}"; do
		[[ -f "$TREE_DIR/${o%.o}.c" ]] || continue
		rm -f "$out/$o"
		objs+=("$o")
	done
	if [[ "$R_TARGET" == objects ]]; then
		[[ ${#objs[@]} -gt 0 ]] || objs=(prepare)
		robot_make "$out" "${objs[@]}" 2>&1 | tee "$LOG_DIR/make-$build-$short.log"
	else
		robot_make "$out" "$R_TARGET" 2>&1 | tee "$LOG_DIR/make-$build-$short.log"
	fi
	if [[ " ${R_MAKE[*]} " == *" C=1 "* ]] && checker_refused "$LOG_DIR/make-$build-$short.log"; then
		echo "the kernel refused sparse, so C=1 checked nothing (see the make log)"
		return 1
	fi
	python3 "$LIB/robot_warnings.py" list "$TREE_DIR" "$LOG_DIR/make-$build-$short.log" \
		"${TOUCHED[@]}" >"$LOG_DIR/warnings-$build-$short.txt"
	if [[ "$short" != 0000 ]]; then
		python3 "$LIB/robot_warnings.py" compare "$LOG_DIR/warnings-$build-0000.txt" \
			"$LOG_DIR/warnings-$build-$short.txt"
	else
		echo "base: $(wc -l <"$LOG_DIR/warnings-$build-$short.txt") warning(s) in the touched files"
	fi
}

main() {
	local opts builds="all" b c short subj start=$SECONDS pkgs=()

	JOBS=$(nproc)
	opts=$(getopt -o hj: -l help,tree:,builds:,jobs:,no-install -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--builds) builds="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	BUILDS=()
	if [[ "$builds" == all ]]; then
		BUILDS=("${DEFAULT_BUILDS[@]}")
	else
		for b in ${builds//,/ }; do
			robot_vars "$b"
			[[ " ${BUILDS[*]} " == *" $b "* ]] || BUILDS+=("$b")
		done
		[[ ${#BUILDS[@]} -gt 0 ]] || die "--builds needs at least one build"
	fi
	pkgs=(base build)
	for b in "${BUILDS[@]}"; do
		pkgs+=("robot-$b")
	done
	ensure_packages "${pkgs[@]}"
	if [[ " ${BUILDS[*]} " == *" gcc "* && -n "$TREE_SPARSE_SUITE" ]]; then
		debian_sparse
	fi
	LOG_DIR="$CACHE_DIR/logs/robot-$TREE"
	rm -rf "$LOG_DIR"
	mkdir -p "$LOG_DIR"

	LAST=0
	series_work_tree robot
	mapfile -t COMMITS < <(git -C "$TREE_DIR" rev-list --reverse "$BASE_REF..HEAD")
	# The files the whole series touches, and the objects of its C files.
	series_objects HEAD

	for c in "$BASE_REF" "${COMMITS[@]}"; do
		git -C "$TREE_DIR" checkout -q --detach "$c"
		short=$(printf '%04d' "$(git -C "$TREE_DIR" rev-list --count "$BASE_REF..$c")")
		subj=$(git -C "$TREE_DIR" log -1 --format=%s "$c")
		[[ "$c" != "${COMMITS[-1]}" ]] || LAST=1
		printf '%s: at %s: %s\n' "$PROG" "$short" "$subj" >&2
		for b in "${BUILDS[@]}"; do
			robot_vars "$b"
			check "$R_WHAT, $([[ $short == 0000 ]] && echo base || echo "patch $short")" \
				"robot-$b-$short" robot_build "$b" "$short"
		done
	done
	printf '%s: done in %s; work tree %s, logs %s\n' "$PROG" "$(elapsed "$start")" "$TREE_DIR" "$LOG_DIR" >&2
	totals
}

# Sourced (by test-scripts.sh), it only defines its functions.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || main "$@"
