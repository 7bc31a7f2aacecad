#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own mm selftests (tools/testing/selftests/mm of the tree
# under test), built statically, run in the QEMU guest of run-qemu.sh's
# configuration on the base and with the series, both architectures: a
# suite we did not write, base against patched.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

# The guest: migration needs three CPUs (two threads besides the one that
# migrates), hugepage-mmap 128 free huge pages of 2 MiB, compaction_test
# room to lock most of the free memory.
GUEST_MEM_MB=2048
GUEST_CPUS=3
GUEST_HUGEPAGES=128

# libnuma's static archive and headers (ksm_tests, migration), Debian's
# libnuma-dev of bookworm for each arch, fetched with a private apt
# configuration, unpacked in the cache, never installed.
LIBNUMA_VERSION=2.0.16-1
LIBNUMA_SHA256=(amd64:5893d10043918ed5d730ac1c6a54dd4e3f781166b809cbd43e43b2e576e4a5db
		arm64:9e5574c38c85afffb11d76b56d6bb67b4f84aa14b96034506bf893fa49f32a84)

# The plan, in run_vmtests.sh's order: "seconds flags binary [args]" (the
# guest's plan format, scripts/guest/selftests-init.c): h = drop caches and
# compact first (run_vmtests.sh's hugetlb preparation), o = overcommit 1
# while it runs (mremap_test maps 2 GiB of shmem; run_vmtests.sh's machines
# have the swap for it, this guest has 16 MiB).  The arguments are
# run_vmtests.sh's, except uffd-stress's hugetlb sizes (32 MiB, 8 bounces:
# "short") and transhuge-stress (10 s over 256 MiB instead of 20 s over all
# of memory).  soft-dirty is x86_64 only (arm64 has no soft-dirty bit).
PLAN=(
	"900 h hugepage-mmap"
	"600 h hugetlb-madvise"
	"300 - map_fixed_noreplace"
	"1200 - gup_longterm"
	"1800 - uffd-unit-tests"
	"900 - uffd-stress anon 20 16"
	"900 h uffd-stress hugetlb 32 8"
	"900 h uffd-stress hugetlb-private 32 8"
	"900 - uffd-stress shmem 20 16"
	"900 - uffd-stress shmem-private 20 16"
	"1200 - compaction_test"
	"300 - map_populate"
	"600 - mlock2-tests"
	"900 o mremap_test"
	"300 - mremap_dontunmap"
	"600 - madv_populate"
	"1200 - ksm_tests -H -s 100"
	"1200 - ksm_tests -P -s 100"
	"600 - ksm_tests -M -p 10"
	"600 - ksm_tests -U"
	"600 - ksm_tests -Z -p 10 -z 0"
	"600 - ksm_tests -Z -p 10 -z 1"
	"600 - ksm_tests -N -m 1"
	"600 - ksm_tests -N -m 0"
	"1200 - ksm_functional_tests"
	"600 - soft-dirty"
	"1200 - pagemap_ioctl"
	"3600 - cow"
	"600 - transhuge-stress -d 10 256"
	"900 h migration"
	"600 - mseal_test"
)
# These must run, not skip, on both architectures (the issue's list).
MUST_RUN=(cow uffd-unit-tests mremap_test mlock2-tests madv_populate map_fixed_noreplace
	  hugepage-mmap ksm_functional_tests)

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Run the kernel's mm selftests (tools/testing/selftests/mm of the tree under
test) in a QEMU guest (TCG) of run-qemu.sh's debug configuration
(Kconfig.fragment: swap, userfaultfd, hugetlbfs, KSM, memcg, NUMA; plus
scripts/configs/peer*.config: gup_test, AF_UNIX, SysV IPC, devtmpfs,
soft-dirty on x86_64), with ${GUEST_MEM_MB} MiB, ${GUEST_CPUS} CPUs on two NUMA nodes and
${GUEST_HUGEPAGES} huge pages, on the base (with the test patches; KUnit
is off at boot: kunit.enable=0) and with the series:
  - the tests are built statically from the tree, against its own
    installed headers, with libnuma from Debian's libnuma-dev (fetched
    per arch, never installed); compaction_test gets a popen() that reads
    /proc/meminfo (there is no shell); ksm_functional_tests' exec of itself
    gets the NULL its argument list lacks in 6.12 (in a copy);
  - the guest runs each one directly, in run_vmtests.sh's order and with
    its arguments (see PLAN in this script), under a time limit, and
    restores the THP, KSM and overcommit knobs after each;
  - a test passes on exit 0, is skipped on 4 (the kselftest codes), fails
    otherwise; the KTAP of those that print it is read with the kernel's
    parser (tools/testing/kunit/kunit.py parse).
Checks (PASS/FAIL lines), per arch: each guest ran every test of the plan;
with the series, no splat; ${MUST_RUN[*]}
run and do not skip; every test that passes on the base passes with the
series.  Writes table.md (a test a row, base and series per arch) to the
results directory.

Options:
      --tree TREE     tree to run (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -a, --arch LIST     architectures, comma separated, or all
                      (default: all = ${KNOWN_ARCHES[*]})
      --variant V     base, patched or both (default: both)
      --only LIST     only these tests of the plan (binary names, comma
                      separated); the must-run check is then skipped
  -j, --jobs N        make -j (default: $(nproc))
  -r, --results DIR   results directory
                      (default: \$CACHE_DIR/results/selftests-<tree>-<time>)
      --timeout SEC   time limit of one boot (default: the plan's limits
                      added up, plus 15 minutes)
      --no-install    never run apt-get, only say what is missing
  -h, --help          show this help
EOT
}

# libnuma_dir: set NUMA_DIR to the unpacked libnuma-dev of the arch.
libnuma_dir() {
	local sha

	sha=$(arch_pin "${LIBNUMA_SHA256[@]}") || die "no pinned libnuma-dev for $DEBARCH"
	deb_unpacked libnuma-dev "$LIBNUMA_VERSION" "$DEBARCH" bookworm http://deb.debian.org/debian "$sha"
	NUMA_DIR="$DEB_DIR"
	[[ -f "$NUMA_DIR/usr/include/numa.h" ]] || die "no numa.h in libnuma-dev for $DEBARCH ($NUMA_DIR)"
}

# build_selftests OUT DEST: the binaries of the plan, static, for the arch,
# into DEST; log in DEST.log.
build_selftests() {
	local out="$1" dest="$2" src="$TREE_DIR/tools/testing/selftests/mm" numa name t
	local cflags=() cflags_one=() libs=() extra=() files=() names=() helpers=() log="$2.log"

	libnuma_dir
	numa="$NUMA_DIR"
	rm -rf "$dest" "$dest.cfg"
	mkdir -p "$dest" "$dest.cfg"
	make_cmd "$out"
	"${MAKE_CMD[@]}" headers_install INSTALL_HDR_PATH="$out/selftests-hdr" >"$log" 2>&1 ||
		die "make headers_install failed for $ARCH_NAME (log: $log)"
	# cow and gup_longterm include the local_config.h of check_config.sh:
	# no liburing here, so their io_uring cases are not compiled in.
	printf '/* scripts/mm-selftests.sh: no liburing */\n' >"$dest.cfg/local_config.h"
	cflags=(-static -Wall -O2 -I "$TREE_DIR" -isystem "$out/selftests-hdr/include"
		-isystem "$TREE_DIR/tools/include/uapi" -isystem "$numa/usr/include"
		-iquote "$src" -I "$dest.cfg" -U_FORTIFY_SOURCE -D_GNU_SOURCE=
		-L "$numa/usr/lib/$("${CROSS}gcc" -dumpmachine)")
	for t in "${RUN_PLAN[@]}"; do
		read -r _ _ name _ <<<"$t"
		[[ " ${names[*]} " == *" $name "* ]] || names+=("$name")
	done
	# Every test links vm_util.c and the THP settings helper (renamed
	# hugepage_settings.c after 6.12).
	helpers=(vm_util.c)
	if [[ -f "$src/thp_settings.c" ]]; then
		helpers+=(thp_settings.c)
	else
		helpers+=(hugepage_settings.c)
	fi
	for name in "${names[@]}"; do
		extra=() libs=(-lrt -lpthread -lm)
		files=("$name.c")
		[[ $name != uffd-* ]] || extra+=(uffd-common.c)
		[[ $name != ksm_tests && $name != migration ]] || libs+=(-lnuma)
		case "$name" in
		soft-dirty) [[ $KARCH == x86_64 ]] || continue ;;
		compaction_test)
			extra+=("$REPO_DIR/scripts/selftests/popen-shim.c")
			cflags_one=(-Dpopen=forkfix_popen -Dpclose=forkfix_pclose)
			;;
		ksm_functional_tests)
			# 6.12's exec of itself passes an argument list with no
			# NULL at its end; mainline has the NULL.
			if grep -q '{ prg_name, FORK_EXEC_CHILD_PRG_NAME }' "$src/$name.c"; then
				sed 's/{ prg_name, FORK_EXEC_CHILD_PRG_NAME }/{ prg_name, FORK_EXEC_CHILD_PRG_NAME, NULL }/' \
					"$src/$name.c" >"$dest.cfg/$name.c"
				files=("$dest.cfg/$name.c")
				printf '%s: %s built from a copy with the NULL that ends its exec argument list\n' \
					"$PROG" "$name" >>"$log"
			fi
			;;
		esac
		printf '%s: building %s\n' "$PROG" "$name" >>"$log"
		# From the source directory with relative names: pagemap_ioctl
		# and gup_longterm make their files from __FILE__.
		(cd "$src" && "${CROSS}gcc" "${cflags[@]}" "${cflags_one[@]}" "${files[@]}" \
			"${helpers[@]}" "${extra[@]}" "${libs[@]}" -o "$dest/$name") >>"$log" 2>&1 ||
			die "cannot build the selftest $name for $ARCH_NAME (log: $log)"
		cflags_one=()
	done
}

# make_selftests_initramfs OUT BIN DEST: init, the binaries and the plan.
make_selftests_initramfs() {
	local out="$1" bin="$2" dest="$3" list="$1/selftests.list" t name f

	mkdir -p "$out/guest"
	make -s -C "$REPO_DIR/scripts/guest" O="$out/guest" CROSS_COMPILE="$CROSS" selftests-init ||
		die "cannot build scripts/guest/selftests-init for $ARCH_NAME"
	: >"$bin/plan"
	for t in "${RUN_PLAN[@]}"; do
		printf '%s\n' "$t" >>"$bin/plan"
	done
	{
		printf '%s\n' 'dir /dev 0755 0 0' 'nod /dev/console 0600 0 0 c 5 1' \
			'dir /proc 0755 0 0' 'dir /sys 0755 0 0' 'dir /tmp 01777 0 0' \
			'dir /selftests 0755 0 0'
		printf 'file /init %s 0755 0 0\n' "$out/guest/selftests-init"
		printf 'file /selftests/plan %s 0644 0 0\n' "$bin/plan"
		for f in "$bin"/*; do
			[[ -x "$f" && -f "$f" ]] || continue
			name="${f##*/}"
			printf 'file /selftests/%s %s 0755 0 0\n' "$name" "$f"
		done
	} >"$list"
	"$out/usr/gen_init_cpio" -t 1700000000 "$list" >"$dest.tmp" || die "gen_init_cpio failed"
	mv "$dest.tmp" "$dest"
}

# The plan of this run: --only, soft-dirty only where it is built, and only
# the tests the tree has (mainline has no hugepage-mmap).
run_plan() {
	local t name

	RUN_PLAN=()
	for t in "${PLAN[@]}"; do
		read -r _ _ name _ <<<"$t"
		[[ $name != soft-dirty || $KARCH == x86_64 ]] || continue
		if [[ ! -f "$TREE_DIR/tools/testing/selftests/mm/$name.c" ]]; then
			log "$name is not in $TREE's tools/testing/selftests/mm: not run"
			continue
		fi
		[[ -z "$ONLY" || ",$ONLY," == *",$name,"* ]] || continue
		RUN_PLAN+=("$t")
	done
}

# run_variant_arch: build, boot, parse one variant on one arch (through
# each_variant_arch).
run_variant_arch() {
	local out dir bin t secs=0 cmd=() timeout

	ARCH_START=$SECONDS
	arch_vars "$ARCH"
	run_plan
	dir="$RESULTS/$VARIANT/$ARCH"
	mkdir -p "$dir"
	peer_kernel "$dir"
	out="$PEER_OUT"
	bin="$out/selftests-bin"
	stage "selftests: ${#RUN_PLAN[@]} runs, built statically from tools/testing/selftests/mm (log: $bin.log)"
	build_selftests "$out" "$bin"
	make_selftests_initramfs "$out" "$bin" "$out/selftests-initramfs.cpio"
	for t in "${RUN_PLAN[@]}"; do
		secs=$((secs + ${t%% *}))
	done
	timeout="${TIMEOUT:-$((secs + 900))}"
	guest_machine
	cmd=("${QEMU_CMD[@]}" "${GUEST_QEMU[@]}"
	     -nographic -no-reboot -kernel "$out/$IMAGE" -initrd "$out/selftests-initramfs.cpio"
	     -append "console=$CONSOLE panic=-1 oops=panic kunit.enable=0 $GUEST_APPEND")
	stage "boot: QEMU (TCG), ${#RUN_PLAN[@]} selftest runs (limit ${timeout}s; console: $dir/console.log)"
	# A guest that hangs or dies still has a console to read.
	(TIMEOUT=$timeout run_guest "$dir" "$ARCH" "${cmd[@]}") ||
		log "the $VARIANT $ARCH guest did not end normally (console: $dir/console.log)"
	stage "done: $(grep -a -c '^forkfix-selftest: ' "$dir/console.log" || true) of ${#RUN_PLAN[@]} runs reported, $(elapsed "$ARCH_START")"
	python3 "$LIB/selftests_results.py" parse "$dir/console.log" "$dir" "$TREE_DIR/tools/testing/kunit/kunit.py" \
		"$SPLAT_RE" "${RUN_PLAN[@]}" >"$dir/results.json" ||
		die "cannot read the console of $VARIANT $ARCH ($dir/console.log)"
}

main() {
	local opts v a tests=() must=""

	JOBS=$(nproc)
	VARIANTS=(base patched)
	ARCH_OPT=all
	ONLY=""
	RESULTS=""
	TIMEOUT=""
	opts=$(getopt -o ha:j:r: -l help,tree:,arch:,variant:,only:,jobs:,results:,timeout:,no-install \
		-n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--variant) variants_opt "$2"; shift 2 ;;
		--only) ONLY="$2"; shift 2 ;;
		-r | --results) RESULTS="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	[[ ${#ARCHES[@]} -gt 0 ]] || parse_arches all
	for v in $(split_list "$ONLY"); do
		tests=()
		for a in "${PLAN[@]}"; do
			read -r _ _ a _ <<<"$a"
			tests+=("$a")
		done
		[[ " ${tests[*]} " == *" $v "* ]] || die "--only: no test '$v' in the plan (see PLAN in $0)"
	done
	RESULTS="${RESULTS:-$CACHE_DIR/results/selftests-$TREE-$(date +%Y%m%d-%H%M%S)}"
	outside_repo "$RESULTS" "the results directory"
	ensure_packages_for base build selftests
	need_tools dpkg-deb
	mkdir -p "$RESULTS"
	RESULTS=$(cd "$RESULTS" && pwd)

	each_variant_arch run_variant_arch
	# With --only, the plan may leave out tests that must run; a tree
	# without one of them (mainline has no hugepage-mmap) is said above.
	if [[ -z "$ONLY" ]]; then
		for v in "${MUST_RUN[@]}"; do
			[[ ! -f "$TREE_DIR/tools/testing/selftests/mm/$v.c" ]] || must+="${must:+,}$v"
		done
	fi
	printf '\n%s: results in %s\n' "$PROG" "$RESULTS"
	python3 "$LIB/selftests_results.py" judge "$RESULTS" "$TREE" "$(IFS=,; echo "${ARCHES[*]}")" \
		"$(IFS=,; echo "${VARIANTS[*]}")" "$must"
}

main "$@"; exit $?
