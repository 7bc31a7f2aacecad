#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the fork_dup_mmap KUnit suite through tools/testing/kunit/kunit.py, on
# the patched tree and on the base with only the test patch (negative
# control), for x86_64 and arm64 under QEMU (TCG).
set -euo pipefail

PROG=$(basename "$0")
SCRIPTS_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPTS_DIR/lib.sh"

DEFAULT_ARCHES="x86_64,arm64"
DEFAULT_TREES="patched,base"
KUNITCONFIG_DIR="$REPO_DIR/kunit"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Build and boot the KUnit suite in kunit/.kunitconfig with kunit.py, once
per architecture and tree:
  patched  the whole series; expected: every case passes (the allocation
           sweep may skip, with its reason, when fault injection is off)
  base     the pinned base plus the test patch alone; expected: the
           teardown cases fail, since 6.12.117 leaves the failed child
           half-built
Prints one line per run, the failing cases of the base run, and
"N passed, N failed".  Build directories: \$CACHE_DIR/build/kunit-<tree>-<arch>.

Options:
  -a, --arch LIST     architectures (default: $DEFAULT_ARCHES)
  -t, --trees LIST    trees to run (default: $DEFAULT_TREES)
      --timeout SEC   kunit.py --timeout for one boot (default: 900)
  -j, --jobs N        make -j (default: $(nproc))
  -h, --help          show this help
EOT
}

# prepare_tree NAME: make the work tree for "patched" or "base"; print it.
prepare_tree() {
	local name="$1" n

	case "$name" in
	patched)
		"$SCRIPTS_DIR/apply-series.sh" --quiet --work-dir "$CACHE_DIR/work/kunit-patched"
		;;
	base)
		n=$(series_patches | wc -l)
		"$SCRIPTS_DIR/apply-series.sh" --quiet --pick "$n" --work-dir "$CACHE_DIR/work/kunit-base"
		;;
	esac
}

# run_kunit TREE ARCH LOG: kunit.py run; its exit status is ignored here.
run_kunit() {
	local tree="$1" arch="$2" log="$3" cross="" cc="gcc" cmd=()

	[[ "$arch" == arm64 ]] && cross="aarch64-linux-gnu-"
	cc="${cross}gcc"
	command -v ccache >/dev/null 2>&1 && cc="ccache $cc"
	cmd=(python3 tools/testing/kunit/kunit.py run
	     --kunitconfig="$KUNITCONFIG_DIR"
	     --arch="$arch"
	     --build_dir="$CACHE_DIR/build/kunit-$TREE_NAME-$arch"
	     --jobs="$JOBS"
	     --timeout="$TIMEOUT"
	     --qemu_args="-accel tcg"
	     --make_options="CC=$cc")
	[[ -n "$cross" ]] && cmd+=(--cross_compile="$cross")
	mkdir -p "$CACHE_DIR/build/kunit-$TREE_NAME-$arch"
	(cd "$tree" && "${cmd[@]}") >"$log" 2>&1 || true
}

main() {
	local arches="$DEFAULT_ARCHES" trees="$DEFAULT_TREES" opts a t tree log summary
	local passed failed skipped errors start ok

	JOBS=$(nproc)
	TIMEOUT=900
	opts=$(getopt -o ha:t:j: -l help,arch:,trees:,timeout:,jobs: -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		-a | --arch) arches="$2"; shift 2 ;;
		-t | --trees) trees="$2"; shift 2 ;;
		--timeout) TIMEOUT="$2"; shift 2 ;;
		-j | --jobs) JOBS="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "--timeout takes seconds, not '$TIMEOUT'"
	for a in ${arches//,/ }; do
		case "$a" in
		x86_64) need_tools gcc qemu-system-x86_64 ;;
		arm64) need_tools aarch64-linux-gnu-gcc qemu-system-aarch64 ;;
		*) die "unknown arch '$a' (known: x86_64, arm64)" ;;
		esac
	done
	for t in ${trees//,/ }; do
		[[ "$t" == patched || "$t" == base ]] || die "unknown tree '$t' (known: patched, base)"
	done
	need_tools git make python3 flex bison bc
	mkdir -p "$CACHE_DIR/logs/kunit"

	for t in ${trees//,/ }; do
		TREE_NAME="$t"
		tree=$(prepare_tree "$t")
		for a in ${arches//,/ }; do
			log="$CACHE_DIR/logs/kunit/$t-$a.log"
			start=$SECONDS
			printf '%s: kunit.py on %s for %s (build and boot; several minutes)\n' "$PROG" "$t" "$a" >&2
			run_kunit "$tree" "$a" "$log"
			summary=$(grep -a 'Testing complete\. Ran' "$log" | tail -n1 || true)
			if [[ -z "$summary" ]]; then
				grep -a -iE 'error|timed out|failed' "$log" | tail -n 5 >&2 || true
				report "$t $a: kunit.py produced no result ($(elapsed "$start"), log: $log)" 1
				continue
			fi
			passed=$(sed -n 's/.*passed: \([0-9]*\).*/\1/p' <<<"$summary")
			failed=$(sed -n 's/.*failed: \([0-9]*\).*/\1/p' <<<"$summary")
			skipped=$(sed -n 's/.*skipped: \([0-9]*\).*/\1/p' <<<"$summary")
			errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$summary")
			summary="passed ${passed:-0}, failed ${failed:-0}, skipped ${skipped:-0}, errors ${errors:-0}; $(elapsed "$start")"
			# The reasons of skipped cases are only in the raw KTAP.
			grep -a -E '^ *ok .* # SKIP' "$CACHE_DIR/build/kunit-$t-$a/test.log" 2>/dev/null |
				sed 's/^ */    skipped: /' >&2 || true
			if [[ "$t" == patched ]]; then
				ok=1
				[[ "${failed:-0}" == 0 && "${errors:-0}" == 0 && "${passed:-0}" -gt 0 ]] && ok=0
				report "patched $a: all cases pass ($summary)" "$ok"
			else
				grep -a -E '\[FAILED\]|entries left in the tree' "$log" | sed 's/^/    /' | head -n 40 >&2 || true
				ok=1
				[[ "${failed:-0}" -gt 0 && "${errors:-0}" == 0 ]] && ok=0
				report "base+test $a: the teardown cases fail, as they must ($summary)" "$ok"
			fi
		done
	done
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	[[ $FAILED -eq 0 ]]
}

main "$@"
