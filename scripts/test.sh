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

STEPS_ALL="scripts,series,kunit,qemu,qemu-base"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Run the project's tests, for each tree (${KNOWN_TREES[*]}), in this order:
  scripts    scripts/test-scripts.sh: bad input to every script, a failing
             config step fails its check (once, not per tree)
  series     scripts/check-series.sh: git am, checkpatch --strict, builds
             after every patch (x86_64, arm64), tools/testing/vma, !MMU
             build, kernel-doc, the tree's content checks
  kunit      scripts/run-kunit.sh: kunit.py on x86_64, patched (--full:
             every arch, the negative control base + test patch, and the
             broken variants of the tree table on x86_64)
  qemu       ./run-qemu.sh: debug kernel, KUnit with fault injection, fork
             sweep, kmemleak and splat scan on x86_64 and arm64
  qemu-base  ./run-qemu.sh --base --arch x86_64 (--full: every arch): must
             exit non-zero, and every teardown case must fail for the
             tree's reason, at boot and from debugfs
Every PASS/FAIL line of the steps counts; the last line is
"N passed, N failed".  Logs: \$CACHE_DIR/logs/test-<tree>-<step>.log.
Missing Debian packages are installed when run as root.

The default tier is CI's.  What repeats a proof of the default tier on
another arch or through another runner is --full only: kunit.py on arm64
(run-qemu.sh boots the same suite on arm64), kunit.py's negative control
(run-qemu.sh --base shows the suite failing on the base), the negative
control on arm64, and the broken variants.

Options:
  -s, --steps LIST   steps to run (default: $STEPS_ALL)
      --tree TREE    only this tree (default: all: ${KNOWN_TREES[*]})
      --full         the full tier: also kunit.py on every arch, on base +
                     test patch, and on the broken variants; run-qemu.sh
                     --base on every arch
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
		report "$name: exit status 0 ($(elapsed "$start"))" "$rc"
	else
		[[ $rc -ne 0 ]] && rc=0 || rc=1
		report "$name: exits non-zero, as it must ($(elapsed "$start"))" "$rc"
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

run_tree() {
	local tree="$1" steps="$2" full="$3" s kunit_arches=x86_64 base_arches=x86_64 results

	tree_vars "$tree"
	if [[ $full -eq 1 ]]; then
		kunit_arches=all
		base_arches=all
	fi
	for s in ${steps//,/ }; do
		case "$s" in
		scripts) ;;
		series) step "$tree series" pass "$REPO_DIR/scripts/check-series.sh" --tree "$tree" ;;
		kunit)
			step "$tree kunit" pass "$REPO_DIR/scripts/run-kunit.sh" --tree "$tree" \
				--arch "$kunit_arches"
			if [[ $full -eq 1 ]]; then
				step "$tree kunit-base" pass "$REPO_DIR/scripts/run-kunit.sh" --tree "$tree" \
					--arch all --base
				step "$tree kunit-broken" pass "$REPO_DIR/scripts/run-kunit.sh" --tree "$tree" \
					--arch x86_64 --broken all
			fi
			;;
		qemu) step "$tree qemu" pass "$REPO_DIR/run-qemu.sh" --tree "$tree" ;;
		qemu-base)
			results="$CACHE_DIR/results/test-qemu-$tree-base"
			rm -rf "${results:?}"
			step "$tree qemu-base" fail "$REPO_DIR/run-qemu.sh" --tree "$tree" --base \
				--arch "$base_arches" --results "$results"
			check_base_failures "$tree qemu-base" "$results" "$base_arches"
			;;
		esac
	done
}

main() {
	local steps="$STEPS_ALL" trees=("${KNOWN_TREES[@]}") full=0 opts s t start=$SECONDS

	opts=$(getopt -o hs: -l help,steps:,tree:,full,no-install -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		-s | --steps) steps="$2"; shift 2 ;;
		--tree) tree_vars "$2"; trees=("$2"); shift 2 ;;
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
	ensure_packages base build vma shellcheck arch:x86_64 arch:arm64 arch:riscv-nommu
	mkdir -p "$CACHE_DIR/logs"

	if [[ ",$steps," == *",scripts,"* ]]; then
		step scripts pass "$REPO_DIR/scripts/test-scripts.sh"
	fi
	for t in "${trees[@]}"; do
		run_tree "$t" "$steps" "$full"
	done
	printf '%s: all steps took %s\n' "$PROG" "$(elapsed "$start")" >&2
	totals
}

main "$@"
