#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian's stress-ng (bookworm) in the QEMU guest of the suites we did not
# write, with its fork-heavy and mm stressors, first as it is and then while
# fault injection fails a share of its tasks' allocations: forks attempted
# and failed, bogo-ops, splats and leaks, base against patched.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

GUEST_MEM_MB=2048
GUEST_CPUS=2
# The size of brd's RAM disks, in KiB: ext2 on ram1 fills it; swap on ram0
# uses its first 16 MiB (scripts/guest/swap-setup.h).  brd takes memory
# only for what is written.
RAMDISK_KIB=131072

# Debian's stress-ng, pinned; the libraries it needs come from the same
# suite at the versions the archive has (apt checks them against the
# signed index) and are listed in the results.
STRESSNG_VERSION=0.15.06-2
STRESSNG_SHA256=(amd64:8f8e7fd65a3f836a81fbd730a6318796a6a9f159b9c6f5f12f5c56c72f6b2b42
		 arm64:70f6c2418558008ee85d05966a13e126187644b35e97793f887a4c6692fce1af)
STRESSNG_SUITE=bookworm
STRESSNG_MIRROR=http://deb.debian.org/debian

# The stressors, one instance each, in two groups that run one after the
# other (mmapfork's children take the free memory between them, and the vm
# stressor next to them finds none and gives up: exit 3), with sizes a
# KASAN guest under TCG gets through a round of in a phase
# (docs/peer-suites.md has the sizes tried).  stress-ng 0.15 has no ksm
# stressor (madvise's advice includes MADV_MERGEABLE; ksmd runs).
STRESS_FORK=(fork vfork clone mmapfork)
STRESS_MM=(mmap mremap madvise userfaultfd swap vm)
STRESS_ARGS=(--vm-bytes 64M --mmap-bytes 4M --mremap-bytes 16M --userfaultfd-bytes 16M
	     --metrics-brief)

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Run Debian's stress-ng $STRESSNG_VERSION ($STRESSNG_SUITE; the binary and the
shared libraries it needs, from the package of each arch, fetched with a
private apt configuration, never installed) as the only program of a QEMU
guest (TCG) of the peer-suites kernel (Kconfig.fragment, qemu-<arch>.config,
scripts/configs/peer*.config), ${GUEST_MEM_MB} MiB, ${GUEST_CPUS} CPUs, swap and an ext2 file system
on RAM disks, on the base (with the test patches; KUnit off at boot) and
with the series.  The stressors, one instance each, in two groups, one
after the other, --seconds each:
  fork  ${STRESS_FORK[*]}
  mm    ${STRESS_MM[*]}
  (${STRESS_ARGS[*]})
Two phases, each runs both groups:
  clean   stress-ng as it is;
  inject  stress-ng's own tasks (/proc/<pid>/make-it-fail, which every
          task it forks inherits; task-filter) have --probability percent
          of their slab and page allocations failed (user pages never),
          from 5 s after its start; init's work never.
The kernel counts, for stress-ng's tasks, the calls of copy_process() and
its errors, and the errors of dup_mmap(), with kretprobes and histogram
triggers; stress-ng's YAML gives the bogo-ops.
Checks (PASS/FAIL lines), per variant and arch: the guest ran to its end;
every run ended by itself; no kretprobe return missed or histogram entry
dropped; stress-ng's tasks forked in every run; the clean runs exit 0,
every stressor makes progress, nothing is injected and no fork fails with
ENOMEM; in the inject runs failures are injected, every stressor reports,
and forks fail with ENOMEM, in dup_mmap() too; with the series, no splat
(Huh VM_FAULT_OOM and OOM kills count as splats outside the inject runs)
and no kmemleak object.  Writes table.md to the results directory.

Options:
      --tree TREE       tree to run (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -a, --arch LIST       architectures, comma separated, or all
                        (default: all = ${KNOWN_ARCHES[*]})
      --variant V       base, patched or both (default: both)
      --seconds N       length of each group's run (default: 60)
      --probability P   percent of allocations failed in the inject phase
                        (default: 1)
  -j, --jobs N          make -j (default: $(nproc))
  -r, --results DIR     results directory
                        (default: \$CACHE_DIR/results/stress-ng-<tree>-<time>)
      --timeout SEC     time limit of one boot (default: 4 x (seconds +
                        120) + 10 minutes)
      --no-install      never run apt-get, only say what is missing
  -h, --help            show this help
EOT
}

# stressng_root: set STRESS_ROOT to the unpacked stress-ng of DEBARCH and
# every package of its dependency closure (Depends), hard links under
# $CACHE_DIR/stress-ng/<version>-<debarch>/root; packages.txt beside it
# lists the packages and versions.
stressng_root() {
	local sha dir pkgs=() pkg ver psha tmp

	sha=$(arch_pin "${STRESSNG_SHA256[@]}") || die "no pinned stress-ng for $DEBARCH"
	dir="$CACHE_DIR/stress-ng/$STRESSNG_VERSION-$DEBARCH"
	STRESS_ROOT="$dir/root"
	take_lock "stress-ng-$DEBARCH"
	if [[ -f "$dir/.done" ]]; then
		release_lock "stress-ng-$DEBARCH"
		return 0
	fi
	deb_unpacked stress-ng "$STRESSNG_VERSION" "$DEBARCH" "$STRESSNG_SUITE" "$STRESSNG_MIRROR" "$sha"
	tmp="$dir.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp/root"
	cp -al "$DEB_DIR/." "$tmp/root/"
	printf 'stress-ng %s %s\n' "$STRESSNG_VERSION" "$sha" >"$tmp/packages.txt"
	apt_private "$STRESSNG_SUITE" "$STRESSNG_MIRROR" "$DEBARCH"
	mapfile -t pkgs < <(apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends \
				--no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances \
				"stress-ng=$STRESSNG_VERSION" 2>/dev/null | grep -E '^[a-z0-9]' | sort -u)
	[[ ${#pkgs[@]} -gt 1 ]] || die "apt-cache found no dependencies of stress-ng for $DEBARCH"
	stage "stress-ng: $STRESSNG_VERSION and the ${#pkgs[@]} packages of its closure ($DEBARCH)"
	for pkg in "${pkgs[@]}"; do
		[[ "$pkg" != stress-ng ]] || continue
		ver=$(apt-cache "${APT_OPTS[@]}" show --no-all-versions "$pkg" 2>/dev/null |
			sed -n 's/^Version: //p' | head -n1)
		psha=$(apt-cache "${APT_OPTS[@]}" show --no-all-versions "$pkg" 2>/dev/null |
			sed -n 's/^SHA256: //p' | head -n1)
		[[ -n "$ver" && -n "$psha" ]] || die "no version of $pkg ($DEBARCH) in $STRESSNG_SUITE"
		deb_unpacked "$pkg" "$ver" "$DEBARCH" "$STRESSNG_SUITE" "$STRESSNG_MIRROR" "$psha"
		cp -al --no-clobber "$DEB_DIR/." "$tmp/root/" 2>/dev/null ||
			cp -a --no-clobber "$DEB_DIR/." "$tmp/root/"
		printf '%s %s %s\n' "$pkg" "$ver" "$psha" >>"$tmp/packages.txt"
	done
	rm -rf "$dir"
	mv "$tmp" "$dir"
	touch "$dir/.done"
	release_lock "stress-ng-$DEBARCH"
}

# make_stress_initramfs OUT DEST: stress-init, stress-ng, its libraries
# and interpreter, the plan and the ext2 blocks.
make_stress_initramfs() {
	local out="$1" dest="$2" work="$1/stress" list="$1/stress/initramfs.list" guest host
	local -A dirs=()
	local d s

	rm -rf "$work"
	mkdir -p "$work" "$out/guest"
	make -s -C "$REPO_DIR/scripts/guest" O="$out/guest" CROSS_COMPILE="$CROSS" stress-init ||
		die "cannot build scripts/guest/stress-init for $ARCH_NAME"
	python3 "$LIB/stress_ng.py" closure "$STRESS_ROOT" "$STRESS_ROOT/usr/bin/stress-ng" \
		>"$work/closure" || die "cannot resolve the libraries of stress-ng ($DEBARCH)"
	mke2fs -q -F -t ext2 -b 4096 -m 0 "$work/ext2.img" "$((RAMDISK_KIB / 1024))M" \
		>"$work/mke2fs.log" 2>&1 || die "mke2fs failed (log: $work/mke2fs.log)"
	python3 "$LIB/stress_ng.py" blocks "$work/ext2.img" "$work/ext2.blocks" >/dev/null ||
		die "cannot read $work/ext2.img"
	rm -f "$work/ext2.img"
	{
		printf 'seconds %s\nprobability %s\n' "$SECONDS_PHASE" "$PROBABILITY"
		printf 'group fork\n'
		for s in "${STRESS_FORK[@]}"; do
			printf 'arg --%s\narg 1\n' "$s"
		done
		printf 'arg %s\n' "${STRESS_ARGS[@]}" --timeout "${SECONDS_PHASE}s"
		printf 'group mm\n'
		for s in "${STRESS_MM[@]}"; do
			printf 'arg --%s\narg 1\n' "$s"
		done
		printf 'arg %s\n' "${STRESS_ARGS[@]}" --timeout "${SECONDS_PHASE}s"
	} >"$work/plan"
	{
		printf '%s\n' 'dir /dev 0755 0 0' 'nod /dev/console 0600 0 0 c 5 1' \
			'dir /proc 0755 0 0' 'dir /sys 0755 0 0' 'dir /tmp 01777 0 0' \
			'dir /stress 0755 0 0' 'dir /usr 0755 0 0' 'dir /usr/bin 0755 0 0'
		printf 'file /init %s 0755 0 0\n' "$out/guest/stress-init"
		printf 'file /stress/plan %s 0644 0 0\n' "$work/plan"
		printf 'file /stress/ext2.blocks %s 0644 0 0\n' "$work/ext2.blocks"
		printf 'file /usr/bin/stress-ng %s 0755 0 0\n' "$STRESS_ROOT/usr/bin/stress-ng"
		while read -r guest host; do
			d="${guest%/*}"
			while [[ -n "$d" && -z "${dirs[$d]:-}" && "$d" != /usr ]]; do
				dirs[$d]=1
				d="${d%/*}"
			done
		done <"$work/closure"
		for d in $(printf '%s\n' "${!dirs[@]}" | sort); do
			printf 'dir %s 0755 0 0\n' "$d"
		done
		while read -r guest host; do
			printf 'file %s %s 0755 0 0\n' "$guest" "$host"
		done <"$work/closure"
	} >"$list"
	"$out/usr/gen_init_cpio" -t 1700000000 "$list" >"$dest.tmp" || die "gen_init_cpio failed"
	mv "$dest.tmp" "$dest"
}

# run_variant_arch: build, boot, parse one variant on one arch (through
# each_variant_arch).
run_variant_arch() {
	local dir cmd=() timeout

	ARCH_START=$SECONDS
	arch_vars "$ARCH"
	dir="$RESULTS/$VARIANT/$ARCH"
	mkdir -p "$dir"
	stressng_root
	cp "$STRESS_ROOT/../packages.txt" "$dir/packages.txt"
	peer_kernel "$dir"
	make_stress_initramfs "$PEER_OUT" "$PEER_OUT/stress-initramfs.cpio"
	cp "$PEER_OUT/stress/plan" "$dir/plan"
	timeout="${TIMEOUT:-$((4 * (SECONDS_PHASE + 120) + 600))}"
	guest_machine
	cmd=("${QEMU_CMD[@]}" "${GUEST_QEMU[@]}"
	     -nographic -no-reboot -kernel "$PEER_OUT/$IMAGE" -initrd "$PEER_OUT/stress-initramfs.cpio"
	     -append "console=$CONSOLE panic=-1 oops=panic kunit.enable=0 brd.rd_nr=2 brd.rd_size=$RAMDISK_KIB $GUEST_APPEND")
	stage "boot: QEMU (TCG), stress-ng 2 x ${SECONDS_PHASE}s clean + 2 x ${SECONDS_PHASE}s at ${PROBABILITY}% (limit ${timeout}s; console: $dir/console.log)"
	(TIMEOUT=$timeout run_guest "$dir" "$ARCH" "${cmd[@]}") ||
		log "the $VARIANT $ARCH guest did not end normally (console: $dir/console.log)"
	python3 "$LIB/stress_ng.py" parse "$dir/console.log" "$SPLAT_RE" >"$dir/results.json" ||
		die "cannot read the console of $VARIANT $ARCH ($dir/console.log)"
	stage "done: $(elapsed "$ARCH_START")"
}

main() {
	local opts

	JOBS=$(nproc)
	VARIANTS=(base patched)
	ARCH_OPT=all
	RESULTS=""
	TIMEOUT=""
	SECONDS_PHASE=60
	PROBABILITY=1
	opts=$(getopt -o ha:j:r: -l help,tree:,arch:,variant:,seconds:,probability:,jobs:,results:,timeout:,no-install \
		-n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--variant) variants_opt "$2"; shift 2 ;;
		--seconds) SECONDS_PHASE="$2"; shift 2 ;;
		--probability) PROBABILITY="$2"; shift 2 ;;
		-r | --results) RESULTS="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	need_count --seconds "$SECONDS_PHASE" seconds
	need_count --probability "$PROBABILITY" "a percentage"
	[[ $PROBABILITY -le 100 ]] || die "--probability is a percentage (1-100), not $PROBABILITY"
	[[ ${#ARCHES[@]} -gt 0 ]] || parse_arches all
	RESULTS="${RESULTS:-$CACHE_DIR/results/stress-ng-$TREE-$(date +%Y%m%d-%H%M%S)}"
	outside_repo "$RESULTS" "the results directory"
	ensure_packages_for base build stress-ng
	need_tools dpkg-deb apt-cache
	mkdir -p "$RESULTS"
	RESULTS=$(cd "$RESULTS" && pwd)

	each_variant_arch run_variant_arch
	printf '\n%s: results in %s\n' "$PROG" "$RESULTS"
	python3 "$LIB/stress_ng.py" judge "$RESULTS" "$TREE" "$(IFS=,; echo "${ARCHES[*]}")" \
		"$(IFS=,; echo "${VARIANTS[*]}")"
}

main "$@"; exit $?
