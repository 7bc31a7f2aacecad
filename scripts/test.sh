#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The project's test command: every check, in order, one progress line per
# step, then "N passed, N failed" over all of them.  The default tier is
# what CI runs; --full adds the runs that repeat what the default tier
# already proves in another way.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

STEPS_ALL="scripts,apply,series,robot,kunit,kunit-base,kunit-broken,qemu,qemu-5level,qemu-base,qemu-broken,walk,class,debian,selftests,stress"
# The walker phase of the walk step, per arch (the qemu step runs the default).
LONG_WALK_SECONDS=600

# plan_text TREE: the tree's two tiers, as usage prints them.
plan_text() {
	tree_vars "$1"
	printf '  %-9s default: %s\n' "$1" "${TREE_CI[*]}"
	printf '  %-9s --full:  %s\n' "" "${TREE_FULL[*]}"
}

usage() {
	local t

	cat <<EOT
Usage: $PROG [OPTIONS]

Run the project's tests: first scripts, then, for each tree (${KNOWN_TREES[*]}),
the steps of its test plan (the tree table, scripts/lib/trees.sh), each
STEP:ARCHES:
  scripts       scripts/test-scripts.sh: bad input to every script, a
                failing config step fails its check (once, not per tree)
  apply         scripts/check-apply.sh: git am by the README's line, b4 am,
                b4 shazam and quilt push -a give the same tree; exporting it
                again gives the shipped files (no ARCHES)
  series        scripts/check-series.sh: git am, checkpatch --strict, builds
                after every patch for ARCHES, tools/testing/vma, kernel-doc,
                the tree's content checks; with "all" also the !MMU build;
                default tier: the objects of the touched files after every
                patch (--per-patch objects), the kunit and qemu steps
                linking the complete series; --full: the whole kernel
                every time
  robot         scripts/check-robot.sh: the kernel test robot's builds
                (x86_64 gcc W=1 + sparse, clang W=1, arm with LPAE and i386
                W=1) after every patch: no warning in a touched file that
                the base does not have (no ARCHES: all of them)
  kunit         scripts/run-kunit.sh: kunit.py, the whole series
  kunit-base    scripts/run-kunit.sh --base: kunit.py on the base with only
                the test patches; every teardown case must fail for the tree's
                reason
  kunit-broken  scripts/run-kunit.sh --broken all: each broken teardown of
                the tree table must be caught
  qemu          ./run-qemu.sh: debug kernel with the distribution's mm,
                KUnit with fault injection, fork sweeps (one per kind, then
                all kinds), walkers racing failed forks, kmemleak and splat
                scan (default tier: --no-kinds)
  qemu-5level   ./run-qemu.sh --five-level --no-kinds (x86_64): the same
                with 5-level paging (QEMU -cpu max), which the guest must
                report, so that the p4d level of the teardown is a real one
  qemu-base     ./run-qemu.sh --base --no-kinds: must exit non-zero, and every teardown
                case must fail for the tree's reason, at boot and from debugfs;
                the base's sweeps and walkers are reported
  qemu-broken   ./run-qemu.sh --broken NAME --no-kinds for each broken
                variant of the guest's checks in the tree table (6.12.y:
                page-leak, a charged page leaked per failed fork): must exit
                non-zero, with init failing the check the variant targets
  walk          ./run-qemu.sh --walk-seconds $LONG_WALK_SECONDS: the same with the walkers
                racing failed forks for $LONG_WALK_SECONDS s per arch
  selftests     scripts/mm-selftests.sh: the kernel's mm selftests in the
                debug guest, base and series: none does worse with the
                series, no splat
  stress        scripts/stress-ng.sh: Debian's stress-ng (fork and mm
                stressors) in the guest, clean and with injected allocation
                failures in its tasks, base and series: forks fail, no splat
                or kmemleak object with the series
  debian        scripts/debian-configs.sh: what the series touches, built with
                Debian's own configurations of the base's version, on the
                base and with the series: both build, no new warning
  class         scripts/class-race.sh: swapoff against failed forks on
                test-only kernels with the walkers' checks reverted: the base
                oopses in every run, the series runs clean 20 times longer
The plans:
$(for t in "${KNOWN_TREES[@]}"; do plan_text "$t"; done)
The default tier is CI's and must pass cold within 75 minutes; --full adds
what repeats a proof of the default tier on another arch or through
another runner, and the long race of the class evidence (docs/test-plan.md and docs/results/ have the measured times).
Every PASS/FAIL line of the steps counts; the last line is
"N passed, N failed".  Logs: \$CACHE_DIR/logs/test-<tree>-<step>.log.
Missing Debian packages are installed when run as root.

Options:
  -s, --steps LIST   only these steps (default: all of the plan:
                     $STEPS_ALL)
      --tree TREE    only this tree (default: all: ${KNOWN_TREES[*]})
      --full         the full tier
      --no-install   never run apt-get, only say what is missing
  -h, --help         show this help
EOT
}

# step NAME EXPECT CMD...: run one step, keep its PASS/FAIL lines and add up
# its "N passed, N failed".  EXPECT "fail" inverts the exit status check
# (the negative control).
step() {
	local name="$1" expect="$2" log start=$SECONDS rc=0 p f
	shift 2

	log="$CACHE_DIR/logs/test-${name// /-}.log"
	printf '%s: [%s] %s (log: %s)\n' "$PROG" "$name" "$*" "$log" >&2
	"$@" >"$log" 2>&1 || rc=$?
	grep -a -E '^(PASS|FAIL)  ' "$log" || true
	read -r p f < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log" | tail -n1) || true
	PASSED=$((PASSED + ${p:-0}))
	FAILED=$((FAILED + ${f:-0}))
	if [[ "$expect" == pass ]]; then
		report "$name: exit status $rc, 0 wanted ($(elapsed "$start"))" "$rc"
	else
		local status=$rc
		[[ $rc -ne 0 ]] && rc=0 || rc=1
		report "$name: exit status $status, non-zero wanted ($(elapsed "$start"))" "$rc"
	fi
}

# The negative control must fail because the suite fails, on every arch:
# every teardown case, for the tree's reason, at boot and from debugfs.
check_base_failures() {
	local name="$1" results="$2" arch run json ktap out rc except=()

	parse_arches "$3"
	for arch in "${ARCHES[@]}"; do
		for run in boot debugfs; do
			json="$results/$arch/ktap-$run.json"
			ktap="$results/$arch/ktap-$run.log"
			except=("${TREE_BASE_EXCEPT[@]}")
			# At boot the sweep skips: fault injection is set up later.
			[[ $run == debugfs ]] || except+=("$TREE_SWEEP_CASE")
			rc=0
			out=$(python3 "$LIB/kunit_json.py" expect-fail "$json" "$ktap" \
				"$TREE_BASE_REASON" "${except[@]}") || rc=$?
			printf '%s\n' "$out" | sed 's/^/    /' >&2
			report "$name: $arch $run: every teardown case fails with '$TREE_BASE_REASON'" "$rc" \
				"$(grep -c '^ok ' <<<"$out") cases"
		done
	done
}

# check_broken_caught NAME RESULTS ARCHES ERE: a broken variant's run must
# have failed because init's check failed with a message matching ERE, on
# every arch, not for another reason alone.
check_broken_caught() {
	local name="$1" results="$2" ere="$4" arch console line

	parse_arches "$3"
	for arch in "${ARCHES[@]}"; do
		console="$results/$arch/console.log"
		line=""
		[[ ! -r "$console" ]] ||
			line=$(sed -n 's/^.*forkfix: FAIL //p' "$console" | tr -d '\r' | { grep -a -m1 -E -e "$ere" || [[ $? -eq 1 ]]; })
		report "$name: $arch: caught by init's check /$ere/" "$([[ -n "$line" ]] && echo 0 || echo 1)" \
			"${line:-no such FAIL line in ${console}}"
	done
}

run_tree() {
	local tree="$1" steps="$2" full="$3" entry s arches results series_opts=() plan=()
	local qemu_opts=() b name

	tree_vars "$tree"
	if [[ $full -eq 1 ]]; then
		plan=("${TREE_FULL[@]}")
	else
		plan=("${TREE_CI[@]}")
	fi
	[[ ${#plan[@]} -gt 0 ]] || die "internal: tree $tree has no test plan in the tree table"
	for entry in "${plan[@]}"; do
		s="${entry%%:*}"
		arches="${entry#*:}"
		[[ ",$steps," == *",$s,"* ]] || continue
		case "$s" in
		apply)
			step "$tree apply" pass "$REPO_DIR/scripts/check-apply.sh" --tree "$tree"
			;;
		series)
			series_opts=(--arch "$arches")
			[[ "$arches" == all ]] || series_opts+=(--no-nommu)
			# The default tier builds the touched objects after every
			# patch (its kunit and qemu steps link the whole series);
			# --full the whole kernel after every patch.
			[[ $full -eq 1 ]] || series_opts+=(--per-patch objects)
			step "$tree series" pass "$REPO_DIR/scripts/check-series.sh" --tree "$tree" \
				"${series_opts[@]}"
			;;
		robot)
			step "$tree robot" pass "$REPO_DIR/scripts/check-robot.sh" --tree "$tree"
			;;
		kunit)
			step "$tree kunit" pass "$REPO_DIR/scripts/run-kunit.sh" --tree "$tree" \
				--arch "$arches"
			;;
		kunit-base)
			step "$tree kunit-base" pass "$REPO_DIR/scripts/run-kunit.sh" --tree "$tree" \
				--arch "$arches" --base
			;;
		kunit-broken)
			step "$tree kunit-broken" pass "$REPO_DIR/scripts/run-kunit.sh" --tree "$tree" \
				--arch "$arches" --broken all
			;;
		qemu)
			# The sweep of each kind on its own runs in --full: CI has
			# the sweep of the whole parent (every kind) and the walkers.
			qemu_opts=()
			[[ $full -eq 1 ]] || qemu_opts=(--no-kinds)
			step "$tree qemu" pass "$REPO_DIR/run-qemu.sh" --tree "$tree" --arch "$arches" \
				"${qemu_opts[@]}"
			;;
		qemu-5level)
			step "$tree qemu-5level" pass "$REPO_DIR/run-qemu.sh" --tree "$tree" \
				--arch "$arches" --five-level --no-kinds
			;;
		qemu-base)
			results="$CACHE_DIR/results/test-qemu-$tree-base"
			rm -rf "${results:?}"
			# The negative control is the suite; the base's fork sweep
			# and walkers are reported, its kind sweeps add nothing.
			step "$tree qemu-base" fail "$REPO_DIR/run-qemu.sh" --tree "$tree" --base \
				--arch "$arches" --no-kinds --results "$results"
			check_base_failures "$tree qemu-base" "$results" "$arches"
			;;
		qemu-broken)
			for b in "${TREE_QEMU_BROKEN[@]}"; do
				name="${b%%$'\t'*}"
				results="$CACHE_DIR/results/test-qemu-$tree-broken-$name"
				rm -rf "${results:?}"
				step "$tree qemu-broken $name" fail "$REPO_DIR/run-qemu.sh" --tree "$tree" \
					--broken "$name" --arch "$arches" --no-kinds --results "$results"
				check_broken_caught "$tree qemu-broken $name" "$results" "$arches" "${b#*$'\t'}"
			done
			;;
		walk)
			step "$tree walk" pass "$REPO_DIR/run-qemu.sh" --tree "$tree" --arch "$arches" \
				--walk-seconds "$LONG_WALK_SECONDS"
			;;
		class)
			step "$tree class" pass "$REPO_DIR/scripts/class-race.sh" --tree "$tree" \
				--arch "$arches"
			;;
		selftests)
			step "$tree selftests" pass "$REPO_DIR/scripts/mm-selftests.sh" --tree "$tree" \
				--arch "$arches"
			;;
		stress)
			step "$tree stress" pass "$REPO_DIR/scripts/stress-ng.sh" --tree "$tree" \
				--arch "$arches"
			;;
		debian)
			step "$tree debian" pass "$REPO_DIR/scripts/debian-configs.sh" --tree "$tree" \
				--arch "$arches"
			;;
		*)
			die "internal: unknown step '$s' in the test plan of $tree"
			;;
		esac
	done
}

main() {
	local steps="$STEPS_ALL" trees=("${KNOWN_TREES[@]}") full=0 opts s t start=$SECONDS tree_opt=()

	opts=$(getopt -o hs: -l help,steps:,tree:,full,no-install -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		-s | --steps) steps="$2"; shift 2 ;;
		--tree) tree_vars "$2"; trees=("$2"); tree_opt=(--tree "$2"); shift 2 ;;
		--full) full=1; shift ;;
		--no-install) NO_INSTALL=1; shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	for s in ${steps//,/ }; do
		[[ ",$STEPS_ALL," == *",$s,"* ]] || die "unknown step '$s' (known: $STEPS_ALL)"
	done
	ensure_packages base build vma shellcheck apply arch:x86_64 arch:arm64 arch:riscv-nommu
	mkdir -p "$CACHE_DIR/logs"

	# A report, not a step: a pin the archive dropped fails the steps
	# that fetch it, each with the repin command.
	log "the pins and the archive's index (scripts/debian-versions.sh --pins):"
	if ! "$REPO_DIR/scripts/debian-versions.sh" --pins --no-install \
		"${tree_opt[@]}" >&2 2>"$CACHE_DIR/logs/test-pins.log"; then
		log "warning: no pin report: $(tail -n1 "$CACHE_DIR/logs/test-pins.log")"
	fi

	if [[ ",$steps," == *",scripts,"* ]]; then
		step scripts pass "$REPO_DIR/scripts/test-scripts.sh"
	fi
	for t in "${trees[@]}"; do
		run_tree "$t" "$steps" "$full"
	done
	printf '%s: all steps took %s\n' "$PROG" "$(elapsed "$start")" >&2
	totals
}

# Sourced (scripts/test-scripts.sh tests check_base_failures()), it only
# defines.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || main "$@"
