#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a tree's KUnit suite through tools/testing/kunit/kunit.py under QEMU
# (TCG), the way a user runs it: on the patched tree, or with --base on the
# base plus the test patch alone (the negative control).
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

DEFAULT_TIMEOUT=900

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Build and boot the tree's KUnit suite with kunit.py and the tree's
kunitconfig (kunit/<tree>/.kunitconfig), once per architecture, in the work
tree \$CACHE_DIR/work/<tree>/<patched|base>-kunit:
  patched  (default) the whole series; expected: every case passes (the
           allocation sweep may skip, with its reason, when fault
           injection is off)
  --base   the pinned base plus the test patch alone; expected: cases fail,
           since the base leaves the failed child half-built
Reads kunit.py's --json results; prints one PASS/FAIL line per arch, the
failing cases of a base run, and "N passed, N failed".

Options:
      --tree TREE     tree to run (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -a, --arch LIST     architectures, comma separated, or all
                      (default: all = ${KNOWN_ARCHES[*]})
      --base          the negative control: base + test patch
      --timeout SEC   kunit.py --timeout for one boot (default: $DEFAULT_TIMEOUT)
  -j, --jobs N        make -j (default: $(nproc))
      --no-install    never run apt-get, only say what is missing
  -h, --help          show this help
EOT
}

# run_kunit ARCH LOG JSON: kunit.py run; its exit status is judged from JSON.
run_kunit() {
	local arch="$1" log="$2" json="$3" out cmd=()

	arch_vars "$arch"
	out=$(build_dir "kunit-$arch")
	mkdir -p "$out"
	cmd=(python3 tools/testing/kunit/kunit.py run
	     --kunitconfig="$TREE_KUNIT_DIR"
	     --arch="$KARCH"
	     --build_dir="$out"
	     --jobs="$JOBS"
	     --timeout="$TIMEOUT"
	     --qemu_args="-accel tcg"
	     --make_options="CC=$(arch_cc)"
	     --json="$json")
	[[ -z "$CROSS" ]] || cmd+=(--cross_compile="$CROSS")
	rm -f "$json"
	(cd "$TREE_DIR" && "${cmd[@]}") >"$log" 2>&1 || true
}

main() {
	local arch_opt=all variant=patched opts a log json start ok counts=() detail pkgs=()

	JOBS=$(nproc)
	TIMEOUT=$DEFAULT_TIMEOUT
	TREE="$DEFAULT_TREE"
	opts=$(getopt -o ha:j: -l help,tree:,arch:,base,timeout:,jobs:,no-install -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--tree) TREE="$2"; shift 2 ;;
		-a | --arch) arch_opt="$2"; shift 2 ;;
		--base) variant=base; shift ;;
		--timeout) TIMEOUT="$2"; shift 2 ;;
		-j | --jobs) JOBS="$2"; shift 2 ;;
		--no-install) NO_INSTALL=1; shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	tree_vars "$TREE"
	parse_arches "$arch_opt"
	need_count --timeout "$TIMEOUT" seconds
	need_count --jobs "$JOBS" "a positive number"
	[[ -f "$TREE_KUNIT_DIR/.kunitconfig" ]] || die "no kunitconfig for $TREE: $TREE_KUNIT_DIR/.kunitconfig"
	pkgs=(base build)
	for a in "${ARCHES[@]}"; do
		pkgs+=("arch:$a")
	done
	ensure_packages "${pkgs[@]}"
	mkdir -p "$CACHE_DIR/logs/kunit-$TREE"

	prepare_tree "$variant" kunit
	for a in "${ARCHES[@]}"; do
		log="$CACHE_DIR/logs/kunit-$TREE/$variant-$a.log"
		json="$CACHE_DIR/logs/kunit-$TREE/$variant-$a.json"
		start=$SECONDS
		printf '%s: kunit.py on %s %s for %s (build and boot; several minutes; log: %s)\n' \
			"$PROG" "$TREE" "$variant" "$a" "$log" >&2
		run_kunit "$a" "$log" "$json"
		read -r -a counts < <(python3 "$LIB/kunit_json.py" counts "$json")
		detail="passed ${counts[0]}, failed ${counts[1]}, skipped ${counts[2]}, errors ${counts[3]}; $(elapsed "$start")"
		if [[ ! -s "$json" ]]; then
			grep -a -iE 'error|timed out|failed' "$log" | tail -n 5 >&2 || true
			report "$TREE $variant $a: kunit.py produced no JSON result ($(elapsed "$start"), log: $log)" 1
			continue
		fi
		# The reasons of skipped cases are only in the raw KTAP.
		grep -a -E '^ *ok .* # SKIP' "$(build_dir "kunit-$a")/test.log" 2>/dev/null |
			sed 's/^ */    skipped: /' >&2 || true
		ok=1
		if [[ "$variant" == patched ]]; then
			[[ ${counts[1]} -eq 0 && ${counts[3]} -eq 0 && ${counts[0]} -gt 0 ]] && ok=0
			report "$TREE patched $a: all cases pass ($detail)" "$ok"
		else
			python3 "$LIB/kunit_json.py" failed "$json" | sed 's/^/    failed: /' | head -n 40 >&2
			[[ ${counts[1]} -gt 0 && ${counts[3]} -eq 0 ]] && ok=0
			report "$TREE base+test $a: cases fail, as they must ($detail)" "$ok"
		fi
	done
	totals
}

main "$@"
