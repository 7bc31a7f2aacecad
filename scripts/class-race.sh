#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The class evidence of the 6.12.y series: a race between swapoff and
# failed forks, on kernels where the walkers' own checks for a failed
# fork are reverted (kunit/<tree>/class/, test only).  On the base, swapoff
# meets the half-built mm and the kernel oopses; with the series, the same
# walker, unchanged, finds an empty mm.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

DEFAULT_RUNS=5
DEFAULT_RUN_LIMIT=900
DEFAULT_MIN_SECONDS=600
DEFAULT_FACTOR=20
DEFAULT_DELAY_MS=20
# Boot, setup and power-off of one guest, on top of its race time.
BOOT_SLACK=600

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Show the class of bugs the series closes.  Builds two test-only kernels,
both the debug kernel of run-qemu.sh (Kconfig.fragment, which has swap on
a RAM disk, and scripts/configs/qemu-<arch>.config) plus printk time
stamps (scripts/configs/class.config), and both with the patches of
kunit/<tree>/class/: the checks that 6.12.y added to swapoff's unuse_mm()
and to uprobes' register_for_each_vma() for a failed fork's mm reverted, a
${DEFAULT_DELAY_MS} ms sleep in dup_mm() between a failed dup_mmap() whose mm joined the
mmlist and its mmput() (the window, widened), and debugfs counters of those
windows and of swapoff's walks of a failed fork's mm.
  base:   the base with those patches (and the KUnit suite, not run);
  series: the whole series with the same patches.
Each guest (scripts/guest/race-init.c) swaps on /dev/ram0, turns swap
off and on in a loop in one process, keeps pages of its own in swap in a
second (so that swapoff walks on past a failed fork's mm), and in a third
pages an anonymous region out (MADV_PAGEOUT) and forks with fail-nth at a
random point of the copy, again and again.

The base is booted --runs times, each until the first splat (at most
--run-limit seconds): every run must oops in swapoff's walk; the time from
the start of the race to the splat is measured with the console's time
stamps.  The series is then booted once for the longer of --min-seconds
and --factor times the slowest base run: no splat, windows opened, swapoff
walked failed forks' mms, and found no VMA in them.

Prints a table (also summary.md and summary.json in the results
directory), one PASS/FAIL line per check and "N passed, N failed".
Work trees: \$CACHE_DIR/work/<tree>/class-{base,series}-race.

Options:
      --tree TREE        tree (default: $DEFAULT_TREE; only trees with
                         kunit/<tree>/class/)
  -a, --arch LIST        architectures, comma separated, or all
                         (default: x86_64)
      --variant V        base, patched or both (default: both; patched alone
                         runs --min-seconds)
      --runs N           base runs (default: $DEFAULT_RUNS)
      --run-limit SEC    time limit of one base race (default: $DEFAULT_RUN_LIMIT)
      --min-seconds SEC  least race time of the series (default: $DEFAULT_MIN_SECONDS)
      --factor N         series race time, in slowest base runs (default: $DEFAULT_FACTOR)
      --delay-ms MS      the widened window (default: $DEFAULT_DELAY_MS)
  -j, --jobs N           make -j (default: $(nproc))
  -r, --results DIR      results directory
                         (default: $CACHE_DIR/results/class-<tree>-<time>)
      --no-install       never run apt-get, only say what is missing
  -h, --help             show this help
EOT
}

stage() {
	printf '%s: [%s %s %s +%s] %s\n' "$PROG" "$TREE" "$VARIANT" "$ARCH" "$(elapsed "$START")" "$*" >&2
}

# build_variant VARIANT: the work tree and kernel of class:VARIANT for ARCH;
# sets KERNEL and INITRD.
build_variant() {
	local out

	prepare_tree "class:$1" race
	out=$(build_dir "$ARCH")
	stage "config: allnoconfig + Kconfig.fragment + qemu-$ARCH.config + class.config"
	configure "$out" "$ARCH_DIR/config-$1.log" allnoconfig "$REPO_DIR/Kconfig.fragment" \
		"$REPO_DIR/scripts/configs/qemu-$ARCH.config" "$REPO_DIR/scripts/configs/class.config"
	stage "build: make $IMAGE_TARGET in $out (log: $ARCH_DIR/build-$1.log)"
	build_kernel "$out" "$ARCH_DIR/build-$1.log"
	make_initramfs "$out" "$out/forkfix-race.cpio" race-init
	KERNEL="$out/$IMAGE"
	INITRD="$out/forkfix-race.cpio"
}

# race DIR SECONDS: one boot, console in DIR/console.log.
race() {
	local dir="$1" seconds="$2" cmd

	mkdir -p "$dir"
	guest_machine
	cmd=("${QEMU_CMD[@]}" "${GUEST_QEMU[@]}" -nographic -no-reboot
	     -kernel "$KERNEL" -initrd "$INITRD"
	     -append "console=$CONSOLE panic=-1 oops=panic kunit.enable=0 $GUEST_APPEND GLIBC_TUNABLES=glibc.pthread.rseq=0 FORKFIX_RACE_SECONDS=$seconds FORKFIX_DELAY_MS=$DELAY_MS")
	printf '%q ' "${cmd[@]}" >"$dir/qemu-cmdline.sh"
	TIMEOUT=$((seconds + BOOT_SLACK)) run_guest "$dir" "$ARCH $VARIANT race" "${cmd[@]}"
}

# first_splat_on CONSOLE: CONSOLE from the first splat line after
# race-begin on; nothing when there is none.
first_splat_on() {
	RE="$SPLAT_RE" awk '/forkfix: race-begin/ { b = 1 } b && !s && $0 ~ ENVIRON["RE"] { s = 1 } s' "$1"
}

# parse DIR: read DIR/console.log into R_* (times from the console's time
# stamps; counters from the last progress or end line); DIR/console.txt is
# the console without carriage returns.
parse() {
	local console="$1/console.txt" line

	tr -d '\r' <"$1/console.log" >"$console"
	R_BEGIN=$(sed -n 's/^\[ *\([0-9.]*\)\] forkfix: race-begin.*/\1/p' "$console" | head -n1)
	R_SPLAT=""
	R_SPLAT_LINE=""
	R_SITE=-
	if [[ -n "$R_BEGIN" ]]; then
		line=$(sed -n '/forkfix: race-begin/,$p' "$console" |
			{ grep -a -m1 -E "$SPLAT_RE" || [[ $? -eq 1 ]]; })
		if [[ -n "$line" ]]; then
			[[ "$line" =~ ^\[\ *([0-9.]+)\]\ *(.*)$ ]] || die "internal: no time stamp in: $line"
			R_SPLAT="${BASH_REMATCH[1]}"
			R_SPLAT_LINE="${BASH_REMATCH[2]}"
			# Where the first splat hit: the first kernel RIP from
			# its line on (unuse_mm() is inlined into the swapoff
			# syscall).
			R_SITE=$(first_splat_on "$console" |
				sed -n 's/.*RIP: 0010:\([A-Za-z0-9_.]*\).*/\1/p; s/.*pc : \([A-Za-z0-9_.]*\).*/\1/p' |
				head -n1)
			R_SITE="${R_SITE:--}"
		fi
	fi
	R_SPLATS=$(scan_splats "$console" "$1/splats.txt")
	line=$(last_match 'forkfix: race(-end)? t=.*' "$console")
	R_END=0
	grep -a -q 'forkfix: race-end' "$console" && R_END=1
	R_T=$(sed -n 's/.* t=\([0-9]*\).*/\1/p' <<<"$line")
	R_FORKS=$(sed -n 's/.* forks=\([0-9]*\).*/\1/p' <<<"$line")
	R_FAILED=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$line")
	R_WINDOWS=$(sed -n 's/.* windows=\(-*[0-9]*\).*/\1/p' <<<"$line")
	R_WALKS=$(sed -n 's/.* walks=\(-*[0-9]*\).*/\1/p' <<<"$line")
	R_WALK_VMAS=$(sed -n 's/.* walk_vmas=\(-*[0-9]*\).*/\1/p' <<<"$line")
	R_TO_SPLAT=-
	if [[ -n "$R_SPLAT" ]]; then
		R_TO_SPLAT=$(awk -v a="$R_BEGIN" -v b="$R_SPLAT" 'BEGIN { printf "%.1f", b - a }')
	fi
}

# row VARIANT RUN SECONDS: one line of the table, also as JSON.
row() {
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$ARCH" "$1" "$2" "$3" \
		"$R_TO_SPLAT" "${R_FORKS:--}" "${R_FAILED:--}" "${R_WINDOWS:--}" "${R_WALKS:--}" \
		"${R_WALK_VMAS:--}" "$R_SITE" >>"$RESULTS/summary.md"
	printf '{"arch": "%s", "variant": "%s", "run": "%s", "limit_seconds": %s, "seconds_to_splat": %s, "progress_seconds": %s, "forks": %s, "failed_forks": %s, "windows": %s, "walks": %s, "walk_vmas": %s, "splat": "%s"}\n' \
		"$ARCH" "$1" "$2" "$3" "$([[ $R_TO_SPLAT == - ]] && echo null || echo "$R_TO_SPLAT")" \
		"${R_T:-null}" "${R_FORKS:-null}" "${R_FAILED:-null}" "${R_WINDOWS:-null}" \
		"${R_WALKS:-null}" "${R_WALK_VMAS:-null}" "${R_SPLAT_LINE//\"/\'}" >>"$RESULTS/runs.jsonl"
}

run_base() {
	local i dir

	VARIANT=base
	build_variant base
	WORST=0
	for ((i = 1; i <= RUNS; i++)); do
		dir="$ARCH_DIR/base-$i"
		stage "run $i/$RUNS: race until the first splat (at most ${RUN_LIMIT}s; console: $dir/console.log)"
		race "$dir" "$RUN_LIMIT"
		parse "$dir"
		row base "$i" "$RUN_LIMIT"
		if [[ -n "$R_SPLAT" && "$R_SITE" =~ swapoff|try_to_unuse|unuse_ ]]; then
			report "$ARCH base run $i: oops in swapoff's walk of a failed fork's mm" 0 \
				"after ${R_TO_SPLAT}s in $R_SITE: $R_SPLAT_LINE"
			WORST=$(awk -v a="$WORST" -v b="$R_TO_SPLAT" 'BEGIN { print (b > a) ? b : a }')
		elif [[ -n "$R_SPLAT" ]]; then
			report "$ARCH base run $i: oops in swapoff's walk of a failed fork's mm" 1 \
				"a splat after ${R_TO_SPLAT}s, but in $R_SITE, not swapoff: $R_SPLAT_LINE"
		else
			report "$ARCH base run $i: oops in swapoff's walk of a failed fork's mm" 1 \
				"no splat in ${RUN_LIMIT}s (windows ${R_WINDOWS:-?}, walks ${R_WALKS:-?})"
			WORST=$RUN_LIMIT
		fi
	done
}

run_series() {
	local dir="$ARCH_DIR/series" seconds

	VARIANT=series
	seconds=$(awk -v w="$WORST" -v f="$FACTOR" -v m="$MIN_SECONDS" \
		'BEGIN { s = w * f; s = (s > m) ? s : m; printf "%d", s + 0.999 }')
	build_variant series
	stage "race for ${seconds}s (the longer of ${MIN_SECONDS}s and $FACTOR x ${WORST}s; console: $dir/console.log)"
	race "$dir" "$seconds"
	parse "$dir"
	row series 1 "$seconds"
	report "$ARCH series: the race ran its ${seconds}s to the end" \
		"$([[ $R_END -eq 1 && ${R_T:-0} -ge $seconds ]] && echo 0 || echo 1)" \
		"${R_T:-?}s, ${R_FORKS:-?} forks, ${R_FAILED:-?} failed"
	report "$ARCH series: no splat" "$([[ $R_SPLATS -eq 0 ]] && echo 0 || echo 1)" \
		"$R_SPLATS lines${R_SPLAT_LINE:+, first: $R_SPLAT_LINE}"
	report "$ARCH series: windows opened and swapoff walked failed forks' mms" \
		"$([[ ${R_WINDOWS:-0} -gt 0 && ${R_WALKS:-0} -gt 0 ]] && echo 0 || echo 1)" \
		"windows ${R_WINDOWS:-?}, walks ${R_WALKS:-?}"
	report "$ARCH series: those walks found no VMA" \
		"$([[ ${R_WALK_VMAS:-x} == 0 ]] && echo 0 || echo 1)" "walk_vmas ${R_WALK_VMAS:-?}"
}

main() {
	local opts

	JOBS=$(nproc)
	ARCH_OPT=x86_64
	VARIANT_OPT=both
	RUNS=$DEFAULT_RUNS
	RUN_LIMIT=$DEFAULT_RUN_LIMIT
	MIN_SECONDS=$DEFAULT_MIN_SECONDS
	FACTOR=$DEFAULT_FACTOR
	DELAY_MS=$DEFAULT_DELAY_MS
	RESULTS=""
	opts=$(getopt -o ha:j:r: -l help,tree:,arch:,variant:,runs:,run-limit:,min-seconds:,factor:,delay-ms:,jobs:,results:,no-install \
		-n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--variant) VARIANT_OPT="$2"; shift 2 ;;
		--runs) need_count --runs "$2" "a positive number"; RUNS="$2"; shift 2 ;;
		--run-limit) need_count --run-limit "$2" seconds; RUN_LIMIT="$2"; shift 2 ;;
		--min-seconds) need_count --min-seconds "$2" seconds; MIN_SECONDS="$2"; shift 2 ;;
		--factor) need_count --factor "$2" "a positive number"; FACTOR="$2"; shift 2 ;;
		--delay-ms) need_count --delay-ms "$2" milliseconds; DELAY_MS="$2"; shift 2 ;;
		-r | --results) RESULTS="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	case "$VARIANT_OPT" in
	base | patched | both) ;;
	*) die "--variant takes base, patched or both, not '$VARIANT_OPT'" ;;
	esac
	common_opts_check
	compgen -G "$TREE_KUNIT_DIR/class/*.patch" >/dev/null ||
		die "$TREE has no test-only class patches ($TREE_KUNIT_DIR/class/*.patch)"

	ensure_packages_for base build
	START=$SECONDS
	[[ -n "$RESULTS" ]] || RESULTS="$CACHE_DIR/results/class-$TREE-$(date +%Y%m%d-%H%M%S)-$$"
	mkdir -p "$RESULTS" || die "cannot create the results directory $RESULTS"
	RESULTS=$(cd "$RESULTS" && pwd)
	{
		echo "| arch | kernel | run | limit (s) | first splat after (s) | forks | failed forks | windows | walks of a failed fork's mm | VMAs those walks found | splat in |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|"
	} >"$RESULTS/summary.md"
	: >"$RESULTS/runs.jsonl"

	for ARCH in "${ARCHES[@]}"; do
		arch_vars "$ARCH"
		ARCH_DIR="$RESULTS/$ARCH"
		mkdir -p "$ARCH_DIR"
		WORST=0
		[[ "$VARIANT_OPT" == patched ]] || run_base
		[[ "$VARIANT_OPT" == base ]] || run_series
	done

	printf '\n%s: results in %s (%s)\n' "$PROG" "$RESULTS" "$(elapsed "$START")"
	cat "$RESULTS/summary.md"
	totals
}

# Sourced (by test-scripts.sh), it only defines its functions.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || main "$@"
