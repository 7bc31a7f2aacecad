#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a debug kernel (Kconfig.fragment plus the tree's KUnit suite: KASAN,
# DEBUG_VM, lockdep, kmemleak, fault injection, and a distribution's mm) with
# a tree's series, boot it under QEMU (TCG) for x86_64 and arm64 with a small
# static init (scripts/guest/qemu-init.c and its init-*.c), and check the
# results: the KUnit suite at boot and again from debugfs with fault
# injection on, fork() sweeps over every fault-injection point (each kind of
# the distribution's mm on its own, then all of them), walkers racing failed
# forks, kmemleak, and no splat in the console.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scripts/lib/all.sh"

DEFAULT_TIMEOUT=1500
DEFAULT_WALK_SECONDS=60
# The kinds of the distribution's mm with a sweep of their own in the guest
# (scripts/guest/init-parent.c, kind_names[]).
DISTRO_KINDS=(swapped uffd-missing uffd-wp hugetlb-private hugetlb-shared ksm mlocked mbind uprobe)
# The walkers that run while forks fail (scripts/guest/init-walkers.c,
# walker_names[]).
WALKERS=(swapoff-swapon pageout uprobe-toggle proc-readers compaction ksmd-khugepaged)
# Passed to init as its environment.  No rseq: after a fork() that did not
# use up fail-nth, the count is still armed when the parent returns to user
# space, and glibc's rseq area, write-protected for copy-on-write, would
# make the kernel's rseq update fail and kill init with SIGSEGV.
GUEST_ENV="GLIBC_TUNABLES=glibc.pthread.rseq=0"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Build a tree's series with Kconfig.fragment (a debug kernel with swap,
userfaultfd, hugetlbfs, KSM, memcg, uprobes, NUMA) and the tree's KUnit
suite, boot it under QEMU (TCG, two NUMA nodes, 8 huge pages) and check:
  - the KUnit suite at boot (6.12.y: fork_dup_mmap, mainline: dup_mmap):
    every case passes;
  - the suite again from debugfs, with failslab and fail_page_alloc set up
    for task-local fail-nth: its allocation sweep runs and passes, while
    a task on another CPU maps and writes accounted memory without one
    map failing;
  - fork() sweeps: fail-nth = 1, 2, ... around fork() until it succeeds,
    in a memcg with a limit, first on a parent with one kind of the
    distribution's mm each (swapped pages, userfaultfd missing and
    write-protect, hugetlb private and shared, KSM, mlock, mbind, a
    uprobe), then on one with all of them and the VMA kinds of the suite;
    after every failed fork the parent's bytes, maps, smaps or pagemap,
    numa_maps, meminfo, KSM and memcg counters are as before and its
    userfaultfd and uprobe still work; the child's copy is checked after
    every fork that succeeded; each sweep's forks run in a memcg of their
    own, which must hold at most half a page per failed fork once removed
    (and RCU has settled): a page leaked per failed fork is past that;
  - walkers (swapoff, MADV_PAGEOUT, uprobe registration, /proc readers,
    compaction, ksmd and khugepaged) while forks fail, --walk-seconds
    long: each walked while forks failed, without errors;
  - a kmemleak scan finds nothing, and the console has no splat: any line
    that SPLAT_COMMON_RE (scripts/lib/kernel.sh) matches: BUG, WARNING,
    KASAN, lockdep, Bad rss-counter, non-zero pgtables_bytes, Oops, panic,
    "Huh VM_FAULT_OOM", the OOM killer, bad page tables, bad swap entries,
    SLUB reports, RCU stalls, hung tasks, dropped printk messages.
Prints a summary per architecture, writes summary.json and every console log
to the results directory, and exits non-zero if anything failed.

With --base, runs the pinned base with only the test patches instead (the
suite, and on mainline the KUnit fix at the head of the series): the
negative control.  The suite must report failures there, so the run exits
non-zero and lists them.

Missing packages are installed with apt-get when run as root; otherwise the
apt-get line to run is printed.  Work trees (\$CACHE_DIR/work/<tree>/
<patched|base>-qemu, build directories inside), and logs live under
$CACHE_DIR (FORKFIX_CACHE), never in this repository.  A second run of the
same tree and variant waits for the first, saying so.

Options:
      --tree TREE     tree to run (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -a, --arch LIST     architectures, comma separated, or all
                      (default: all = ${KNOWN_ARCHES[*]})
      --base          run the base plus the test patches (negative control)
      --broken NAME   run the series plus kunit/<tree>/broken/NAME.patch, a
                      deliberately broken teardown: must fail (6.12.y's
                      page-leak is for the guest's memcg check, the
                      others for the suite)
  -j, --jobs N        make -j (default: $(nproc))
  -r, --results DIR   results directory
                      (default: $CACHE_DIR/results/qemu-<tree>-<variant>-<time>)
  -k, --keep          also keep the kernel image, initramfs and QEMU command
                      line of every boot in the results directory
      --timeout SEC   time limit of one boot (default: $DEFAULT_TIMEOUT)
      --walk-seconds N
                      how long the walkers run while forks fail, per arch;
                      0: no walker phase (default: $DEFAULT_WALK_SECONDS)
      --no-kinds      no sweep of each kind on its own (the sweep of the
                      whole parent still has every kind)
      --five-level    x86_64: boot with 5-level paging (QEMU -cpu max, which
                      has LA57; 6.12: CONFIG_X86_5LEVEL=y, which allnoconfig
                      leaves off; build directory .build-x86_64-5level);
                      init reports the levels it finds and the run fails
                      unless there are 5, as on Debian's x86_64 kernels
                      running on hardware with LA57
      --suite-only    only the KUnit runs, kmemleak and the splat scan: no
                      fork sweep, kind sweeps or walkers
      --no-install    never run apt-get, only say what is missing
  -h, --help          show this help
EOT
}

# Record how long a stage took: stage_time NAME START.
stage_time() {
	STAGE_TIMES+=("$1=$((SECONDS - $2))")
}

# --- Boot -----------------------------------------------------------------

# boot KERNEL INITRAMFS: run QEMU with a time limit; console and pid file
# in the arch's results directory.
boot() {
	local kernel="$1" initrd="$2" cmd

	guest_machine
	cmd=("${QEMU_CMD[@]}")
	# LA57: TCG's "max" CPU has 5-level paging (x86_64 only).
	[[ "${FIVE_LEVEL:-0}" == 0 ]] || cmd+=(-cpu max)
	cmd+=("${GUEST_QEMU[@]}"
	     -nographic -no-reboot -kernel "$kernel" -initrd "$initrd"
	     -append "console=$CONSOLE panic=-1 oops=panic $GUEST_APPEND $GUEST_ENV FORKFIX_WALK_SECONDS=$WALK_SECONDS FORKFIX_KINDS=$KINDS FORKFIX_SWEEP=$SWEEP")
	if [[ $KEEP -eq 1 ]]; then
		printf '%q ' "${cmd[@]}" >"$ARCH_DIR/qemu-cmdline.sh"
		echo >>"$ARCH_DIR/qemu-cmdline.sh"
	fi
	run_guest "$ARCH_DIR" "$ARCH" "${cmd[@]}"
}

# --- Results --------------------------------------------------------------

# parse_ktap FILE JSON: run the kernel's KTAP parser; print
# "passed failed skipped errors" from its JSON.
parse_ktap() {
	local in="$1" json="$2"

	# A results directory used again must not hold the last run's JSON.
	rm -f "$json"
	python3 "$TREE_DIR/tools/testing/kunit/kunit.py" parse --json="$json" <"$in" \
		>"${json%.json}.txt" 2>&1 || true
	python3 "$LIB/kunit_json.py" counts "$json"
}

# check_results: read the console of one boot, fill RESULT_* and print the
# failures; returns non-zero when the run of this tree did not go as it must.
check_results() {
	local console="$1" dir="$2"
	local boot_ktap="$dir/ktap-boot.log" rerun_ktap="$dir/ktap-debugfs.log"
	local boot rerun sweep leaks splats problems=() line run

	# The boot-time KTAP ends where init starts; the debugfs one is framed.
	sed -n '/forkfix: init started/q;p' "$console" >"$boot_ktap"
	sed -n '/forkfix: ktap-begin/,/forkfix: ktap-end/{/forkfix: ktap-/d;p}' "$console" >"$rerun_ktap"
	read -r -a boot < <(parse_ktap "$boot_ktap" "$dir/ktap-boot.json")
	read -r -a rerun < <(parse_ktap "$rerun_ktap" "$dir/ktap-debugfs.json")
	RESULT_BOOT="${boot[0]} passed, ${boot[1]} failed, ${boot[2]} skipped"
	RESULT_RERUN="${rerun[0]} passed, ${rerun[1]} failed, ${rerun[2]} skipped"
	RESULT_SWEEP_CASE=$(python3 "$LIB/kunit_json.py" status "$dir/ktap-debugfs.json" "$TREE_SWEEP_CASE")
	RESULT_KUNIT_COUNTS=("${boot[@]}" "${rerun[@]}")

	sweep=$(last_match 'forkfix: sweep points=.*' "$console")
	RESULT_POINTS=$(sed -n 's/.*points=\([0-9]*\).*/\1/p' <<<"$sweep")
	RESULT_FORK_FAILED=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$sweep")
	RESULT_MEMCG_LEFT=$(sed -n 's/.* memcg-left=\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$sweep")
	RESULT_ABSORBED=$(sed -n 's/.*absorbed=\([0-9]*\).*/\1/p' <<<"$sweep")
	RESULT_COMPLETE=$(sed -n 's/.*complete=\([0-9]*\).*/\1/p' <<<"$sweep")
	# x86_64: the whole parent's LDT copies that failed (arch_dup_mmap()).
	RESULT_ARCH_DUP_FAILED=$(sed -n 's/.* arch-dup-failed=\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$sweep")
	RESULT_SWEEP_PASSES=$(sed -n 's/.* passes=\([0-9]*\).*/\1/p' <<<"$sweep")
	check_kinds "$console" "$dir/kinds.txt"
	check_walkers "$console" "$dir/walkers.txt"
	# The task that mapped accounted memory beside the debugfs run.
	line=$(last_match 'forkfix: mapper maps=[0-9]* failed=[0-9]*' "$console")
	RESULT_MAPPER_MAPS=$(sed -n 's/.* maps=\([0-9]*\).*/\1/p' <<<"$line")
	RESULT_MAPPER_FAILED=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$line")
	leaks=$(last_match 'forkfix: kmemleak objects=[0-9]*' "$console")
	RESULT_LEAKS="${leaks##*=}"
	splats=$(scan_splats "$console" "$dir/splats.txt")
	RESULT_SPLATS="$splats"
	RESULT_INIT_FAILS=$(count_matches 'forkfix: FAIL' "$console")
	# init's own count of its failed checks, which a dropped FAIL line
	# cannot hide.
	line=$(last_match 'forkfix: done failures=[0-9]*' "$console")
	RESULT_DONE=0
	[[ -z "$line" ]] || RESULT_DONE=1
	RESULT_GUEST_FAILURES="${line##*=}"

	[[ $RESULT_DONE -eq 1 ]] || problems+=("init did not finish")
	[[ $RESULT_DONE -eq 0 || "$RESULT_GUEST_FAILURES" == 0 ]] ||
		problems+=("init counted $RESULT_GUEST_FAILURES failed checks")
	[[ ${boot[3]} -eq 0 && $((boot[0] + boot[1] + boot[2])) -gt 0 ]] ||
		problems+=("no parsable boot-time KTAP")
	[[ ${boot[1]} -eq 0 ]] || problems+=("${boot[1]} KUnit cases failed at boot")
	[[ ${rerun[1]} -eq 0 ]] || problems+=("${rerun[1]} KUnit cases failed in the debugfs run")
	# The rerun is the same suite: a case it lost or that crashed counts.
	[[ ${rerun[3]} -eq 0 ]] || problems+=("${rerun[3]} errors in the debugfs run's KTAP")
	[[ $((rerun[0] + rerun[1] + rerun[2])) -eq $((boot[0] + boot[1] + boot[2])) ]] ||
		problems+=("the debugfs run has $((rerun[0] + rerun[1] + rerun[2])) cases, the boot $((boot[0] + boot[1] + boot[2]))")
	# A skip is allowed only where the tree table says why it happens.
	skip_specs "$ARCH"
	for run in boot debugfs; do
		python3 "$LIB/kunit_json.py" skips "$dir/ktap-$run.json" "$dir/ktap-$run.log" \
			"${SKIP_SPECS[@]}" >"$dir/skips-$run.txt" ||
			problems+=("a case skipped that may not ($run): $(sed -n '/^NOT OK/{p;q}' "$dir/skips-$run.txt")")
	done
	[[ "${RESULT_MAPPER_MAPS:-0}" -gt 0 && "${RESULT_MAPPER_FAILED:-x}" == 0 ]] ||
		problems+=("the task mapping beside the debugfs run: ${RESULT_MAPPER_MAPS:-no} maps, ${RESULT_MAPPER_FAILED:-no count of} failed")
	[[ "$RESULT_SWEEP_CASE" == PASS ]] ||
		problems+=("KUnit '$TREE_SWEEP_CASE' from debugfs: $RESULT_SWEEP_CASE, not PASS")
	[[ $SWEEP -eq 0 || "${RESULT_COMPLETE:-0}" == 1 ]] || problems+=("fork sweep incomplete")
	[[ $SWEEP -eq 0 || "${RESULT_MEMCG_LEFT:--1}" -ge 0 ]] ||
		problems+=("fork sweep: no charge left in its memcg reported")
	# Where fork copies something after the last VMA, some failure must
	# come there: the teardown with no stop VMA.
	[[ $SWEEP -eq 0 || "$ARCH" != x86_64 || "${RESULT_ARCH_DUP_FAILED:-0}" -gt 0 ]] ||
		problems+=("fork sweep: no copy of the parent's LDT failed in ${RESULT_SWEEP_PASSES:-an unknown number of} passes (arch-dup-failed=${RESULT_ARCH_DUP_FAILED:-none}), so no failure came after the last VMA")
	# x86_64: the paging levels init found (a hinted mapping above 47 bits).
	line=$(last_match 'forkfix: paging levels=[0-9]' "$console")
	RESULT_LEVELS="${line##*=}"
	[[ "${FIVE_LEVEL:-0}" == 0 || "$RESULT_LEVELS" == 5 ]] ||
		problems+=("--five-level: the guest ran with ${RESULT_LEVELS:-an unknown number of} paging levels, not 5")
	[[ -n "$RESULT_SETUP" ]] || problems+=("no setup line: swap, memcg, uprobe, NUMA not set up")
	[[ "$RESULT_SETUP" != *"uprobe off"* ]] || problems+=("the uprobe is not on")
	[[ "$RESULT_SETUP" != *"nodes 1,"* ]] || problems+=("only one NUMA node")
	[[ ${#RESULT_KINDS_BAD[@]} -eq 0 ]] ||
		problems+=("kind sweeps missing or incomplete: ${RESULT_KINDS_BAD[*]}")
	if [[ "$WALK_SECONDS" -gt 0 ]]; then
		[[ "${RESULT_WALK_FAILED:-0}" -gt 0 ]] || problems+=("walkers: no failed fork")
		[[ ${#RESULT_WALKERS_BAD[@]} -eq 0 ]] ||
			problems+=("walkers missing, idle or with errors during the failed forks: ${RESULT_WALKERS_BAD[*]}")
	fi
	[[ "${RESULT_INIT_FAILS:-0}" == 0 ]] || problems+=("$RESULT_INIT_FAILS failed checks in init")
	[[ "${RESULT_LEAKS:-x}" == 0 ]] || problems+=("kmemleak: ${RESULT_LEAKS:-no scan} objects")
	[[ "$splats" -eq 0 ]] || problems+=("$splats splat lines (see $dir/splats.txt)")

	for line in "${problems[@]}"; do
		printf '%s: [%s %s %s] %s\n' "$PROG" "$TREE" "$VARIANT" "$ARCH" "$line" >&2
	done
	[[ ${#problems[@]} -eq 0 ]]
}

# check_kinds CONSOLE TABLE: the sweep of each kind of the distribution's mm
# (one "kind-sweep" line each); writes TABLE, sets RESULT_KINDS_* and
# RESULT_SETUP.
check_kinds() {
	local console="$1" table="$2" kind line points failed complete seconds

	RESULT_SETUP=$(last_match 'forkfix: setup: .*' "$console")
	RESULT_KINDS_BAD=()
	RESULT_KINDS_POINTS=0
	RESULT_KINDS_FAILED=0
	RESULT_KINDS_JSON=""
	printf '%-16s %7s %7s %9s %8s\n' kind points failed complete seconds >"$table"
	[[ $KINDS -eq 1 ]] || return 0
	for kind in "${DISTRO_KINDS[@]}"; do
		line=$(last_match "forkfix: kind-sweep kind=$kind .*" "$console")
		points=$(sed -n 's/.* points=\([0-9]*\).*/\1/p' <<<"$line")
		failed=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$line")
		complete=$(sed -n 's/.* complete=\([0-9]*\).*/\1/p' <<<"$line")
		seconds=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")
		printf '%-16s %7s %7s %9s %8s\n' "$kind" "${points:--}" "${failed:--}" \
			"${complete:--}" "${seconds:--}" >>"$table"
		if [[ "$complete" != 1 || "${failed:-0}" -eq 0 ]]; then
			RESULT_KINDS_BAD+=("$kind")
			continue
		fi
		RESULT_KINDS_POINTS=$((RESULT_KINDS_POINTS + points))
		RESULT_KINDS_FAILED=$((RESULT_KINDS_FAILED + failed))
		RESULT_KINDS_JSON+="${RESULT_KINDS_JSON:+, }\"$kind\": {\"points\": $points, \"failed_forks\": $failed}"
	done
}

# check_walkers CONSOLE TABLE: the walker phase: forks, failed forks, and per
# walker its iterations, those between the first and the last failed fork
# (must be > 0: they overlapped) and its errors (must be 0).
check_walkers() {
	local console="$1" table="$2" name line iters during errors

	line=$(last_match 'forkfix: walkers seconds=.*' "$console")
	RESULT_WALK_LINE="${line#forkfix: walkers }"
	RESULT_WALK_FORKS=$(sed -n 's/.* forks=\([0-9]*\).*/\1/p' <<<"$line")
	RESULT_WALK_FAILED=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$line")
	RESULT_WALKERS_BAD=()
	RESULT_WALKERS_JSON=""
	printf '%s\n%-16s %10s %20s %7s\n' "${RESULT_WALK_LINE:-no walker phase}" \
		walker iterations during-failed-forks errors >"$table"
	for name in "${WALKERS[@]}"; do
		line=$(last_match "forkfix: walker name=$name .*" "$console")
		iters=$(sed -n 's/.* iterations=\([0-9]*\).*/\1/p' <<<"$line")
		during=$(sed -n 's/.* during-failed-forks=\([0-9]*\).*/\1/p' <<<"$line")
		errors=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$line")
		printf '%-16s %10s %20s %7s\n' "$name" "${iters:--}" "${during:--}" "${errors:--}" >>"$table"
		[[ "${during:-0}" -gt 0 && "${errors:-1}" -eq 0 ]] || RESULT_WALKERS_BAD+=("$name")
		RESULT_WALKERS_JSON+="${RESULT_WALKERS_JSON:+, }\"$name\": {\"iterations\": ${iters:-0}, \"during_failed_forks\": ${during:-0}, \"errors\": ${errors:-0}}"
	done
}

# Failing KUnit cases, from the parser's summary, for the base run.
list_failures() {
	grep -a -h -E '\[FAILED\]|\[CRASHED\]' "$1"/ktap-*.txt 2>/dev/null |
		sed -e 's/^\[[0-9:]*\] *//' -e 's/^=* *//' -e 's/ *=*$//' | sort -u | sed 's/^/    /' >&2 || true
	grep -a -h -E 'entries left in the tree|map_count is|bytes of page tables' "$1/console.log" |
		sed 's/^/    /' | head -n 12 >&2 || true
	# What init's own checks found, each kind of line once.
	grep -a -h -o 'forkfix: FAIL .*' "$1/console.log" | sed 's/point [0-9-]*/point N/' |
		sort | uniq -c | sort -rn | head -n 12 | sed 's/^/    /' >&2 || true
}

json_arch() {
	local status="$1" t first=1

	printf '    {"arch": "%s", "tree": "%s", "variant": "%s", "status": "%s", "paging_levels": %d,\n' \
		"$ARCH" "$TREE" "$VARIANT" "$status" "${RESULT_LEVELS:-0}"
	printf '     "kunit_boot": {"passed": %d, "failed": %d, "skipped": %d, "errors": %d},\n' \
		"${RESULT_KUNIT_COUNTS[@]:0:4}"
	printf '     "kunit_debugfs": {"passed": %d, "failed": %d, "skipped": %d, "errors": %d, "sweep_case": "%s"},\n' \
		"${RESULT_KUNIT_COUNTS[@]:4:4}" "$RESULT_SWEEP_CASE"
	printf '     "mapper": {"maps": %d, "failed": %d},\n' \
		"${RESULT_MAPPER_MAPS:-0}" "${RESULT_MAPPER_FAILED:-0}"
	printf '     "fork_sweep": {"points": %d, "failed_forks": %d, "absorbed": %d, "memcg_left": %d, "arch_dup_failed": %d, "complete": %s},\n' \
		"${RESULT_POINTS:-0}" "${RESULT_FORK_FAILED:-0}" "${RESULT_ABSORBED:-0}" "${RESULT_MEMCG_LEFT:--1}" \
		"${RESULT_ARCH_DUP_FAILED:--1}" "$([[ "${RESULT_COMPLETE:-0}" == 1 ]] && echo true || echo false)"
	printf '     "kind_sweeps": {%s},\n' "$RESULT_KINDS_JSON"
	printf '     "walkers": {"seconds": %d, "forks": %d, "failed_forks": %d, "walkers": {%s}},\n' \
		"$WALK_SECONDS" "${RESULT_WALK_FORKS:-0}" "${RESULT_WALK_FAILED:-0}" "$RESULT_WALKERS_JSON"
	printf '     "splats": %d, "leaks": %d, "init_failures": %d,\n' \
		"${RESULT_SPLATS:-0}" "${RESULT_LEAKS:--1}" "${RESULT_INIT_FAILS:-0}"
	printf '     "seconds": {'
	for t in "${STAGE_TIMES[@]}"; do
		[[ $first -eq 1 ]] || printf ', '
		printf '"%s": %s' "${t%%=*}" "${t#*=}"
		first=0
	done
	printf '}}'
}

# --- One architecture -----------------------------------------------------

run_arch() {
	local out t status=FAIL label frags=()

	ARCH_START=$SECONDS
	STAGE_TIMES=()
	RESULT_KUNIT_COUNTS=(0 0 0 0 0 0 0 0)
	RESULT_SWEEP_CASE=MISSING
	arch_vars "$ARCH"
	ARCH_DIR="$RESULTS/$ARCH"
	mkdir -p "$ARCH_DIR"
	frags=("$REPO_DIR/Kconfig.fragment" "$REPO_DIR/scripts/configs/qemu-$ARCH.config")
	if [[ $FIVE_LEVEL -eq 1 ]]; then
		# A build of its own: 6.12 has 5-level paging as an option
		# (allnoconfig leaves it off), 7.x always builds it in.
		out=$(build_dir "$ARCH-5level")
		mkdir -p "$out"
		if grep -q '^config X86_5LEVEL$' "$TREE_DIR/arch/x86/Kconfig"; then
			printf 'CONFIG_X86_5LEVEL=y\n' >"$out/forkfix-5level.config"
		else
			printf '# 5-level paging is always built in on this tree.\n' >"$out/forkfix-5level.config"
		fi
		frags+=("$out/forkfix-5level.config")
	else
		out=$(build_dir "$ARCH")
	fi

	stage "config: allnoconfig + ${frags[*]##*/} + CONFIG_$TREE_KCONFIG"
	t=$SECONDS
	configure "$out" "$ARCH_DIR/config.log" allnoconfig "${frags[@]}"
	cp "$out/.config" "$ARCH_DIR/config"
	stage_time config "$t"

	stage "build: make $IMAGE_TARGET in $out (a few minutes when cold; log: $ARCH_DIR/build.log)"
	t=$SECONDS
	build_kernel "$out" "$ARCH_DIR/build.log"
	stage_time build "$t"

	stage "initramfs: static init qemu-init from scripts/guest, usr/gen_init_cpio"
	t=$SECONDS
	make_initramfs "$out" "$out/forkfix-initramfs.cpio" qemu-init
	stage_time initramfs "$t"

	stage "boot: QEMU (TCG), KUnit at boot, KUnit from debugfs, fork sweep, kmemleak (limit ${TIMEOUT}s)"
	t=$SECONDS
	if [[ $KEEP -eq 1 ]]; then
		cp "$out/$IMAGE" "$ARCH_DIR/"
		cp "$out/forkfix-initramfs.cpio" "$ARCH_DIR/"
	fi
	boot "$out/$IMAGE" "$out/forkfix-initramfs.cpio"
	stage_time boot "$t"

	stage "check: KTAP (tools/testing/kunit parser), fork sweep, kmemleak, splats"
	if check_results "$ARCH_DIR/console.log" "$ARCH_DIR"; then
		status=PASS
	fi
	[[ "$VARIANT" == patched ]] || list_failures "$ARCH_DIR"
	stage_time total "$ARCH_START"
	ARCH_STATUS["$ARCH"]=$status
	json_arch "$status" >"$ARCH_DIR/summary.json.part"
	# A base run is expected to fail: its line is not a PASS/FAIL line.
	label="$status"
	[[ "$VARIANT" == patched ]] || label=${VARIANT%%:*}
	label=${label^^}
	printf '%-4s  %s %s %s: boot: %s | debugfs: %s, sweep case %s, mapper %s maps %s failed | fork sweep: %s points, %s failed forks (%s in arch_dup_mmap), memcg left %s B | %s kind sweeps: %s points, %s failed forks | walkers %ss: %s forks, %s failed | splats %s | leaks %s | %s\n' \
		"$label" "$TREE" "$VARIANT" "$ARCH" "$RESULT_BOOT" "$RESULT_RERUN" "$RESULT_SWEEP_CASE" \
		"${RESULT_MAPPER_MAPS:-?}" "${RESULT_MAPPER_FAILED:-?}" \
		"${RESULT_POINTS:-?}" "${RESULT_FORK_FAILED:-?}" "${RESULT_ARCH_DUP_FAILED:--}" \
		"${RESULT_MEMCG_LEFT:-?}" "$([[ $KINDS -eq 1 ]] && echo $((${#DISTRO_KINDS[@]} - ${#RESULT_KINDS_BAD[@]})) || echo no)" \
		"$RESULT_KINDS_POINTS" "$RESULT_KINDS_FAILED" \
		"$WALK_SECONDS" "${RESULT_WALK_FORKS:-0}" "${RESULT_WALK_FAILED:-0}" \
		"${RESULT_SPLATS:-?}" "${RESULT_LEAKS:-?}" \
		"$(printf '%s ' "${STAGE_TIMES[@]}")" >>"$RESULTS/summary.txt"
}

main() {
	local opts a first=1 rc=0

	JOBS=$(nproc)
	TIMEOUT=$DEFAULT_TIMEOUT
	ARCH_OPT=all
	VARIANT=patched
	KEEP=0
	WALK_SECONDS=$DEFAULT_WALK_SECONDS
	KINDS=1
	SWEEP=1
	SUITE_ONLY=0
	FIVE_LEVEL=0
	RESULTS=""
	opts=$(getopt -o ha:j:r:k -l help,tree:,arch:,base,broken:,jobs:,results:,keep,timeout:,walk-seconds:,no-kinds,suite-only,five-level,no-install \
		-n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--base) VARIANT=base; shift ;;
		--broken)
			[[ "$2" =~ ^[a-z0-9-]+$ ]] || die "--broken takes the name of a broken variant, not '$2'"
			VARIANT="broken:$2"; shift 2 ;;
		-r | --results) RESULTS="$2"; shift 2 ;;
		-k | --keep) KEEP=1; shift ;;
		--no-kinds) KINDS=0; shift ;;
		--suite-only) SUITE_ONLY=1; shift ;;
		--five-level) FIVE_LEVEL=1; shift ;;
		--walk-seconds)
			[[ "$2" =~ ^[0-9]+$ ]] || die "--walk-seconds needs a whole number of seconds, not '$2'"
			WALK_SECONDS="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	if [[ $SUITE_ONLY -eq 1 ]]; then
		SWEEP=0 KINDS=0 WALK_SECONDS=0
	fi
	[[ $FIVE_LEVEL -eq 0 || "${ARCHES[*]}" == x86_64 ]] ||
		die "--five-level is for x86_64 alone: give --arch x86_64"

	ensure_packages_for base build
	ARCH="-" ARCH_START=$SECONDS
	stage "base and series: $TREE_PKG $TREE_VERSION, patches/$TREE ($VARIANT)"
	# The work tree stays locked until this run ends; a patch that does
	# not apply dies here, naming it, before any results directory exists.
	prepare_tree "$VARIANT" qemu

	[[ -n "$RESULTS" ]] || RESULTS="$CACHE_DIR/results/qemu-$TREE-${VARIANT/:/-}-$(date +%Y%m%d-%H%M%S)-$$"
	mkdir -p "$RESULTS" || die "cannot create the results directory $RESULTS"
	RESULTS=$(cd "$RESULTS" && pwd)
	: >"$RESULTS/summary.txt"

	declare -g -A ARCH_STATUS=()
	for ARCH in "${ARCHES[@]}"; do
		run_arch
	done

	{
		printf '{"tree": "%s", "variant": "%s", "base_commit": "%s", "results": "%s", "runs": [\n' \
			"$TREE" "$VARIANT" "$BASE_COMMIT" "$RESULTS"
		for a in "${ARCHES[@]}"; do
			[[ $first -eq 1 ]] || printf ',\n'
			cat "$RESULTS/$a/summary.json.part"
			rm -f "$RESULTS/$a/summary.json.part"
			first=0
		done
		printf '\n]}\n'
	} >"$RESULTS/summary.json"

	printf '\n%s: results in %s\n' "$PROG" "$RESULTS"
	cat "$RESULTS/summary.txt"
	for a in "${ARCHES[@]}"; do
		[[ "${ARCH_STATUS[$a]}" == PASS ]] || rc=1
	done
	if [[ "$VARIANT" == base && $rc -ne 0 ]]; then
		printf '%s: the suite fails on the unpatched base, as it must (exit 1)\n' "$PROG"
	elif [[ "$VARIANT" == broken:* && $rc -ne 0 ]]; then
		printf '%s: the broken teardown %s is caught, as it must be (exit 1)\n' "$PROG" "${VARIANT#broken:}"
	fi
	return "$rc"
}

# Sourced (by scripts/test-scripts.sh, to judge made-up consoles), it
# defines its functions only.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || main "$@"
