#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: the base and the patched kernel, same non-debug config, booted
# in turn (A B A B ...) under QEMU with -icount, so that guest time follows
# guest instructions and the figures repeat on a noisy host.  The guest
# (scripts/guest/bench-init.c) times fork+exit, mmap+munmap, munmap of a span and a
# failed fork that stops after k of the parent's VMAs.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

DEFAULT_PAIRS=5
DEFAULT_TIMEOUT=900

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Build the base (plus the test patches, which change nothing without KUnit)
and the patched kernel with scripts/configs/bench.config, boot them in turn
under QEMU with "-icount shift=0,sleep=off" (one guest nanosecond per guest
instruction, one CPU), and print per case the median guest time per
operation of each kernel, the ratio patched/base of the medians, the lowest
and highest ratio of the pairs, and the number of runs.  The table also goes
to bench.md and bench.json in the results directory.

Cases: fork+exit+wait with 10, 100 and 1000 extra VMAs; mmap+munmap of one
page among 1000 VMAs; munmap of a range of 16 VMAs; fork() failing after k
copied VMAs (fail-nth on the vm_area_struct cache only), k = 10, 50, 90 of
100 and k = 10, 50, 90, 500, 990 of 1000 extra VMAs.

Work trees: \$CACHE_DIR/work/<tree>/<base|patched>-bench, build
directories inside.

Options:
      --tree TREE     tree (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -a, --arch LIST     architectures, comma separated, or all (default: x86_64)
      --pairs N       base/patched boots per arch, alternating (default: $DEFAULT_PAIRS)
  -j, --jobs N        make -j (default: $(nproc))
  -r, --results DIR   results directory (default: $CACHE_DIR/results/bench-<tree>-<time>)
      --timeout SEC   time limit of one boot (default: $DEFAULT_TIMEOUT)
      --no-install    never run apt-get, only say what is missing
  -h, --help          show this help
EOT
}

# boot_bench VARIANT N: one boot; the guest's lines go to the results.
boot_bench() {
	local variant="$1" n="$2" out="${BUILD[$1]}" dir="$RESULTS/$ARCH/$1-$2"

	mkdir -p "$dir"
	run_guest "$dir" "$ARCH $variant" "${QEMU_CMD[@]}" -accel tcg -icount 'shift=0,sleep=off' \
		-smp 1 -m 1024 -nographic -no-reboot -kernel "$out/$IMAGE" \
		-initrd "$out/bench-initramfs.cpio" \
		-append "console=$CONSOLE panic=-1 slub_nomerge norandmaps quiet GLIBC_TUNABLES=glibc.pthread.rseq=0"
	grep -a -q 'bench: done failures=0' "$dir/console.log" ||
		die "the $ARCH $variant benchmark did not finish cleanly (console: $dir/console.log)"
	grep -a -o 'bench: case=.*' "$dir/console.log" | sed "s/^/$variant $n /" >>"$RESULTS/$ARCH/results.txt"
}

# Median per kernel, ratio of medians, min/max of the per-pair ratios.
table() {
	python3 - "$1" "$2" <<'EOF'
import json, statistics, sys
path, arch = sys.argv[1], sys.argv[2]
runs = {}
for line in open(path):
    tree, n, rest = line.split(" ", 2)
    f = dict(kv.split("=") for kv in rest.replace("bench: ", "").split())
    runs.setdefault(f["case"], {}).setdefault(tree, {})[int(n)] = int(f["ns"])
rows = []
for case, by in runs.items():
    base, patched = by.get("base", {}), by.get("patched", {})
    pairs = sorted(set(base) & set(patched))
    if not pairs:
        continue
    mb = statistics.median(base[i] for i in pairs)
    mp = statistics.median(patched[i] for i in pairs)
    ratios = [patched[i] / base[i] for i in pairs]
    rows.append({"arch": arch, "case": case, "base_ns": mb, "patched_ns": mp,
                 "ratio": mp / mb, "ratio_min": min(ratios), "ratio_max": max(ratios),
                 "runs": len(pairs)})
print("| arch | case | base ns/op | patched ns/op | patched/base | min | max | pairs |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    print("| %s | %s | %.0f | %.0f | %.4f | %.4f | %.4f | %d |" % (
        r["arch"], r["case"], r["base_ns"], r["patched_ns"], r["ratio"],
        r["ratio_min"], r["ratio_max"], r["runs"]))
json.dump(rows, open(path.replace("results.txt", "bench.json"), "w"), indent=1)
EOF
}

main() {
	local opts t n start
	declare -A tree_dir

	JOBS=$(nproc)
	TIMEOUT=$DEFAULT_TIMEOUT
	PAIRS=$DEFAULT_PAIRS
	ARCH_OPT=x86_64
	RESULTS=""
	opts=$(getopt -o ha:j:r: -l help,tree:,arch:,pairs:,jobs:,results:,timeout:,no-install \
		-n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--pairs) PAIRS="$2"; shift 2 ;;
		-r | --results) RESULTS="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	need_count --pairs "$PAIRS" "a positive number"

	ensure_packages_for base build
	start=$SECONDS
	log "base and series (+$(elapsed "$start"))"
	for t in base patched; do
		prepare_tree "$t" bench
		tree_dir[$t]="$TREE_DIR"
	done
	[[ -n "$RESULTS" ]] || RESULTS="$CACHE_DIR/results/bench-$TREE-$(date +%Y%m%d-%H%M%S)"
	mkdir -p "$RESULTS" || die "cannot create the results directory $RESULTS"
	RESULTS=$(cd "$RESULTS" && pwd)

	: >"$RESULTS/bench.md"
	declare -g -A BUILD=()
	for ARCH in "${ARCHES[@]}"; do
		arch_vars "$ARCH"
		mkdir -p "$RESULTS/$ARCH"
		: >"$RESULTS/$ARCH/results.txt"
		for t in base patched; do
			TREE_DIR="${tree_dir[$t]}"
			BUILD[$t]=$(build_dir "$ARCH")
			log "$ARCH $t: config and build (+$(elapsed "$start"); log: $RESULTS/$ARCH/build-$t.log)"
			# No KUnit: the test patches of the base stay inert.
			WITH_SUITE=0 configure "${BUILD[$t]}" "$RESULTS/$ARCH/config-$t.log" allnoconfig \
				"$REPO_DIR/scripts/configs/bench.config" \
				"$REPO_DIR/scripts/configs/qemu-$ARCH.config"
			build_kernel "${BUILD[$t]}" "$RESULTS/$ARCH/build-$t.log"
			make_initramfs "${BUILD[$t]}" "${BUILD[$t]}/bench-initramfs.cpio" bench-init
		done
		cmp -s "${BUILD[base]}/.config" "${BUILD[patched]}/.config" ||
			die "the base and patched configs differ for $ARCH"
		for ((n = 1; n <= PAIRS; n++)); do
			for t in base patched; do
				log "$ARCH pair $n/$PAIRS: $t (+$(elapsed "$start"))"
				boot_bench "$t" "$n"
			done
		done
		table "$RESULTS/$ARCH/results.txt" "$ARCH" | tee -a "$RESULTS/bench.md"
	done
	log "done in $(elapsed "$start"); results in $RESULTS"
}

main "$@"
