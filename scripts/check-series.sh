#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Check the series the way a maintainer would: it applies, checkpatch is
# clean, every patch builds for x86_64 and arm64 and keeps the userland VMA
# tests passing, kernel-doc is clean, the whole series builds for !MMU, and
# the marker is gone.  One line per check, then "N passed, N failed".
set -euo pipefail

PROG=$(basename "$0")
SCRIPTS_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPTS_DIR/lib.sh"

# name  ARCH  CROSS_COMPILE  how to configure
ARCH_TABLE=(
	"x86_64 x86_64 -                  tinyconfig+check.config"
	"arm64  arm64  aarch64-linux-gnu- tinyconfig+check.config"
	"nommu  riscv  riscv64-linux-gnu- nommu_virt_defconfig"
)
DEFAULT_ARCHES="x86_64,arm64"
CHECK_CONFIG="$SCRIPTS_DIR/configs/check.config"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Apply patches/ onto the pinned base in a fresh work tree and check it:
  - git am of the whole series is clean;
  - scripts/checkpatch.pl --strict reports nothing on every patch;
  - after every patch: the kernel builds for each --arch (small config:
    tinyconfig + scripts/configs/check.config, one build dir per arch,
    reused, ccache if installed) and tools/testing/vma builds and passes;
  - the complete series builds for a !MMU kernel (riscv nommu_virt_defconfig);
  - scripts/kernel-doc -none is silent on every file the series touches, and
    the functions the series changes have kernel-doc;
  - free_pgtables() takes tree_max, and no XA_ZERO_ENTRY / xa_is_zero() is
    left in kernel/fork.c, mm/mmap.c and mm/memory.c.
Prints one line per check and ends with "N passed, N failed"; exits 1 if
anything failed.  Logs go to \$CACHE_DIR/logs/check ($CACHE_DIR/logs/check).

Options:
  -a, --arch LIST     architectures to build after every patch
                      (default: $DEFAULT_ARCHES; known: x86_64, arm64)
      --no-nommu      skip the !MMU build
      --last-only     build and test only the complete series, not every patch
  -j, --jobs N        make -j (default: $(nproc))
  -o, --work-dir DIR  work tree to create (default: $CACHE_DIR/work/check)
  -h, --help          show this help
EOT
}

LOG_DIR="$CACHE_DIR/logs/check"

# check NAME LOGNAME CMD...: run CMD with its output in a log, report it.
check() {
	local name="$1" logname="$2" start=$SECONDS rc=0 log
	shift 2

	log="$LOG_DIR/$logname.log"
	printf '%s: running: %s\n' "$PROG" "$name" >&2
	"$@" >"$log" 2>&1 || rc=$?
	if [[ $rc -ne 0 ]]; then
		sed 's/^/    | /' "$log" | tail -n 15 >&2
		report "$name" 1 "$(elapsed "$start"), log: $log"
	else
		report "$name" 0 "$(elapsed "$start")"
	fi
	return 0
}

arch_field() {
	local name="$1" field="$2" row f

	for row in "${ARCH_TABLE[@]}"; do
		read -r -a f <<<"$row"
		if [[ "${f[0]}" == "$name" ]]; then
			printf '%s\n' "${f[$field]}"
			return 0
		fi
	done
	return 1
}

# build_kernel NAME TREE: configure (once) and build in the per-arch dir.
build_kernel() {
	local name="$1" tree="$2" arch cross how out cc make_cmd=()

	arch=$(arch_field "$name" 1)
	cross=$(arch_field "$name" 2)
	how=$(arch_field "$name" 3)
	[[ "$cross" == - ]] && cross=""
	out="$CACHE_DIR/build/check-$name"
	mkdir -p "$out"
	cc="${cross}gcc"
	command -v ccache >/dev/null 2>&1 && cc="ccache $cc"
	make_cmd=(make -s -C "$tree" O="$out" ARCH="$arch" -j"$JOBS" CC="$cc")
	[[ -n "$cross" ]] && make_cmd+=(CROSS_COMPILE="$cross")

	case "$how" in
	tinyconfig+check.config)
		# Regenerated at every step: a patch may add a symbol the
		# fragment sets.  Unchanged options cause no rebuild.
		"${make_cmd[@]}" tinyconfig >/dev/null
		"$tree/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$CHECK_CONFIG" >/dev/null
		"${make_cmd[@]}" olddefconfig
		;;
	*)
		[[ -f "$out/.config" ]] || "${make_cmd[@]}" "$how"
		;;
	esac
	"${make_cmd[@]}"
}

# vma_tests TREE: build the userland VMA tests from scratch and run them.
vma_tests() {
	local tree="$1"

	make -s -C "$tree/tools/testing/vma" clean >/dev/null
	make -s -C "$tree/tools/testing/vma" -j"$JOBS"
	(cd "$tree/tools/testing/vma" && ./vma)
}

checkpatch_one() {
	local tree="$1" patch="$2"

	"$tree/scripts/checkpatch.pl" --strict --no-tree --terse --no-summary "$patch" >"$LOG_DIR/cp.out" 2>&1 || true
	cat "$LOG_DIR/cp.out"
	# Any ERROR, WARNING or CHECK line is a failure.
	! grep -qE '(ERROR|WARNING|CHECK):' "$LOG_DIR/cp.out"
}

kernel_doc_files() {
	local tree="$1" out
	shift

	out=$(cd "$tree" && scripts/kernel-doc -none "$@" 2>&1)
	printf '%s\n' "$out"
	[[ -z "$out" ]]
}

# kernel_doc_function TREE FILE FUNC: FUNC must have a kernel-doc comment.
kernel_doc_function() {
	local tree="$1" file="$2" func="$3" out

	out=$(cd "$tree" && scripts/kernel-doc -rst -function "$func" "$file" 2>&1)
	printf '%s\n' "$out"
	grep -qE "^\.\. c:function::.*\b$func ?\(" <<<"$out" && ! grep -q 'warning' <<<"$out"
}

grep_absent() {
	local tree="$1" pattern="$2"
	shift 2

	! (cd "$tree" && grep -n -- "$pattern" "$@")
}

main() {
	local arches="$DEFAULT_ARCHES" nommu=1 last_only=0 work="$CACHE_DIR/work/check"
	local opts base tree patches=() commits=() a i c short subj files=() f start=$SECONDS

	JOBS=$(nproc)
	opts=$(getopt -o ha:j:o: -l help,arch:,no-nommu,last-only,jobs:,work-dir: -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		-a | --arch) arches="$2"; shift 2 ;;
		--no-nommu) nommu=0; shift ;;
		--last-only) last_only=1; shift ;;
		-j | --jobs) JOBS="$2"; shift 2 ;;
		-o | --work-dir) work="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "--jobs takes a positive number, not '$JOBS'"
	for a in ${arches//,/ }; do
		[[ "$a" == x86_64 || "$a" == arm64 ]] || die "unknown arch '$a' (known: x86_64, arm64)"
		c=$(arch_field "$a" 2)
		[[ "$c" == - ]] && c="" 
		need_tools "${c}gcc"
	done
	need_tools git make gcc flex bison bc perl python3
	[[ $nommu -eq 0 ]] || need_tools riscv64-linux-gnu-gcc
	mkdir -p "$LOG_DIR"

	mapfile -t patches < <(series_patches)
	base=$(ensure_base)
	printf '%s: running: git am of %d patches\n' "$PROG" "${#patches[@]}" >&2
	if tree=$("$SCRIPTS_DIR/apply-series.sh" --quiet --work-dir "$work" 2>"$LOG_DIR/am.log"); then
		report "git am: ${#patches[@]} patches onto base $(git -C "$base" rev-parse --short=12 "$BASE_REF")" 0
	else
		cat "$LOG_DIR/am.log" >&2
		report "git am: ${#patches[@]} patches onto base" 1 "$(tail -n1 "$LOG_DIR/am.log")"
		printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
		exit 1
	fi

	for i in "${!patches[@]}"; do
		check "checkpatch --strict $(basename "${patches[i]}")" "checkpatch-$((i + 1))" \
			checkpatch_one "$tree" "${patches[i]}"
	done

	mapfile -t commits < <(git -C "$tree" rev-list --reverse "$BASE_REF..HEAD")
	[[ $last_only -eq 0 ]] || commits=("${commits[-1]}")
	for c in "${commits[@]}"; do
		git -C "$tree" checkout -q --detach "$c"
		i=$(git -C "$tree" rev-list --count "$BASE_REF..$c")
		short=$(printf '%04d' "$i")
		subj=$(git -C "$tree" log -1 --format=%s "$c")
		printf '%s: at patch %s: %s\n' "$PROG" "$short" "$subj" >&2
		for a in ${arches//,/ }; do
			check "build $a after $short" "build-$a-$short" build_kernel "$a" "$tree"
		done
		check "tools/testing/vma after $short" "vma-$short" vma_tests "$tree"
	done
	git -C "$tree" checkout -q --detach "${commits[-1]}"

	if [[ $nommu -eq 1 ]]; then
		check "build !MMU (riscv nommu_virt_defconfig) with the series" "build-nommu" \
			build_kernel nommu "$tree"
	fi

	mapfile -t files < <(git -C "$tree" diff --name-only "$BASE_REF..HEAD" -- '*.c' '*.h' | grep -v '^tools/')
	check "kernel-doc -none on ${#files[@]} touched files" "kernel-doc" kernel_doc_files "$tree" "${files[@]}"
	for f in mm/memory.c:free_pgtables mm/vma.c:unmap_region mm/mmap.c:remove_mm_vmas \
		 mm/mmap.c:dup_mmap_abort; do
		check "kernel-doc for ${f#*:}()" "kernel-doc-${f#*:}" kernel_doc_function "$tree" "${f%%:*}" "${f#*:}"
	done
	check "free_pgtables() takes tree_max" "tree-max" \
		grep -qzP 'void free_pgtables\([^)]*unsigned long tree_max' "$tree/mm/internal.h"
	check "no XA_ZERO_ENTRY in kernel/fork.c" "no-xa-zero" grep_absent "$tree" XA_ZERO_ENTRY kernel/fork.c
	check "no xa_is_zero() in mm/mmap.c, mm/memory.c" "no-xa-is-zero" \
		grep_absent "$tree" xa_is_zero mm/mmap.c mm/memory.c

	printf '%s: done in %s; work tree %s, logs %s\n' "$PROG" "$(elapsed "$start")" "$tree" "$LOG_DIR" >&2
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	[[ $FAILED -eq 0 ]]
}

main "$@"
