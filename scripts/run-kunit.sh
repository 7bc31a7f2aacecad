#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a tree's KUnit suite through tools/testing/kunit/kunit.py under QEMU
# (TCG), the way a user runs it: on the patched tree, or with --base on the
# base plus the test patches alone (the negative control).
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
  --base   the pinned base plus the test patches alone (the suite, and
           on mainline the KUnit fix at the head); expected: every
           teardown case fails, for the reason of the tree table (6.12.y:
           "entries left in the tree"), since the base leaves the failed
           child half-built
  --broken the series plus a deliberately broken teardown
           (kunit/<tree>/broken/NAME.patch, work tree broken-kunit);
           expected: a case fails with the message of the check the
           variant targets (tree table), and no case crashed or was
           cut short (a hang, an oops)
Reads kunit.py's --json results and, for the reasons, its raw KTAP; prints
one PASS/FAIL line per run and "N passed, N failed".

Options:
      --tree TREE     tree to run (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -a, --arch LIST     architectures, comma separated, or all
                      (default: all = ${KNOWN_ARCHES[*]}); also um: User
                      Mode Linux, kunit.py's default, which has no THP
                      (its case skips there, as the tree table allows)
      --base          the negative control: base + test patches
      --broken LIST   broken variants, comma separated, or all (the
                      tree table's, kunit/<tree>/broken/NAME.patch; not
                      those that only run-qemu.sh checks, like 6.12.y's
                      page-leak)
      --timeout SEC   kunit.py --timeout for one boot (default: $DEFAULT_TIMEOUT)
  -j, --jobs N        make -j (default: $(nproc))
      --no-install    never run apt-get, only say what is missing
  -h, --help          show this help
EOT
}

# run_kunit ARCH LOG JSON: kunit.py run; its exit status is judged from JSON.
# The kunitconfig leaves out THP, which UML (kunit.py's default) lacks and
# x86_64 has off by default: the QEMU arches have it, so it is added there.
run_kunit() {
	local arch="$1" log="$2" json="$3" out line cmd=()

	arch_vars "$arch"
	out=$(build_dir "kunit-$arch")
	mkdir -p "$out"
	cmd=(python3 tools/testing/kunit/kunit.py run
	     --kunitconfig="$TREE_KUNIT_DIR"
	     --arch="$KARCH"
	     --build_dir="$out"
	     --jobs="$JOBS"
	     --timeout="$TIMEOUT"
	     --make_options="CC=$(arch_cc)"
	     --json="$json")
	[[ -z "$CROSS" ]] || cmd+=(--cross_compile="$CROSS")
	# UML has no THP; the other arches default it off.
	[[ "$KARCH" == um ]] || cmd+=(--kconfig_add=CONFIG_TRANSPARENT_HUGEPAGE=y)
	# A run that never boots must not be judged on the last one's console.
	rm -f "$json" "$out/test.log"
	(cd "$TREE_DIR" && PATH="$(qemu_tcg_shim):$PATH" "${cmd[@]}") >"$log" 2>&1 || true
}

# qemu_tcg_shim: a directory whose qemu-system-* run QEMU with TCG only
# (scripts/lib/qemu-tcg): the kunit.py of 7.3 asks for KVM first (6.12's does not), and
# QEMU with KVM hangs here.  Prints the directory.
qemu_tcg_shim() {
	local dir="$CACHE_DIR/qemu-tcg" name

	mkdir -p "$dir"
	for name in qemu-system-x86_64 qemu-system-aarch64 qemu-system-riscv64; do
		ln -sfn "$LIB/qemu-tcg" "$dir/$name"
	done
	printf '%s\n' "$dir"
}

# judge VARIANT ARCH JSON KTAP DETAIL SPLATS: one PASS/FAIL line for a run;
# SPLATS is the number of splat lines of its console (SPLAT_RE), which only
# the patched kernel must not have.
judge() {
	local variant="$1" arch="$2" json="$3" ktap="$4" detail="$5" splats="$6"
	local counts=() ok=1 entry name regex skips_ok=0

	read -r -a counts < <(python3 "$LIB/kunit_json.py" counts "$json")
	case "$variant" in
	patched)
		skip_specs "$arch"
		python3 "$LIB/kunit_json.py" skips "$json" "$ktap" "${SKIP_SPECS[@]}" |
			sed 's/^/    /' >&2 && skips_ok=1
		[[ ${counts[1]} -eq 0 && ${counts[3]} -eq 0 && ${counts[0]} -gt 0 &&
		   $skips_ok -eq 1 && $splats -eq 0 ]] && ok=0
		report "$TREE patched $arch: all cases pass, no skip but the tree table's, no splat ($detail)" "$ok"
		;;
	base)
		# The sweep skips at boot: no fault injection under kunit.py.
		python3 "$LIB/kunit_json.py" expect-fail "$json" "$ktap" "$TREE_BASE_REASON" \
			"${TREE_BASE_EXCEPT[@]}" "$TREE_SWEEP_CASE" | sed 's/^/    /' >&2 && ok=0
		report "$TREE base+test $arch: every teardown case fails with '$TREE_BASE_REASON' ($detail)" "$ok"
		;;
	broken:*)
		name="${variant#broken:}"
		for entry in "${TREE_BROKEN[@]}"; do
			[[ "${entry%%$'\t'*}" == "$name" ]] && regex="${entry#*$'\t'}"
		done
		python3 "$LIB/kunit_json.py" caught "$json" "$ktap" "$regex" | sed 's/^/    /' >&2 && ok=0
		# Caught, and every case ran to its end: a suite that hangs or
		# crashes on the break it was meant to report has not reported it.
		[[ ${counts[3]} -eq 0 ]] || ok=1
		report "$TREE broken variant $name $arch: caught by '$regex', no case crashed ($detail)" "$ok"
		;;
	esac
}

main() {
	local opts a log json start counts=() detail variants=(patched)
	local broken="" v entry known=() console splats

	JOBS=$(nproc)
	TIMEOUT=$DEFAULT_TIMEOUT
	ARCH_OPT=all
	EXTRA_ARCHES=("${KUNIT_ONLY_ARCHES[@]}")
	opts=$(getopt -o ha:j: -l help,tree:,arch:,base,broken:,timeout:,jobs:,no-install -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--base) variants=(base); shift ;;
		--broken) broken="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	if [[ -n "$broken" ]]; then
		[[ "${variants[0]}" == patched ]] || die "--base and --broken exclude each other"
		for entry in "${TREE_BROKEN[@]}"; do
			known+=("${entry%%$'\t'*}")
		done
		[[ "$broken" != all ]] || broken=$(IFS=,; echo "${known[*]}")
		variants=()
		for v in ${broken//,/ }; do
			[[ " ${known[*]} " == *" $v "* ]] ||
				die "unknown broken variant '$v' for $TREE (known: ${known[*]:-none})"
			variants+=("broken:$v")
		done
	fi
	[[ -f "$TREE_KUNIT_DIR/.kunitconfig" ]] || die "no kunitconfig for $TREE: $TREE_KUNIT_DIR/.kunitconfig"
	ensure_packages_for base build
	mkdir -p "$CACHE_DIR/logs/kunit-$TREE"

	for v in "${variants[@]}"; do
		prepare_tree "$v" kunit
		for a in "${ARCHES[@]}"; do
			log="$CACHE_DIR/logs/kunit-$TREE/${v/:/-}-$a.log"
			json="${log%.log}.json"
			start=$SECONDS
			printf '%s: kunit.py on %s %s for %s (build and boot; several minutes; log: %s)\n' \
				"$PROG" "$TREE" "$v" "$a" "$log" >&2
			run_kunit "$a" "$log" "$json"
			read -r -a counts < <(python3 "$LIB/kunit_json.py" counts "$json")
			detail="passed ${counts[0]}, failed ${counts[1]}, skipped ${counts[2]}, errors ${counts[3]}; $(elapsed "$start")"
			if [[ ! -s "$json" ]]; then
				grep -a -iE 'error|timed out|failed' "$log" | tail -n 5 >&2 || true
				report "$TREE $v $a: kunit.py produced no JSON result ($(elapsed "$start"), log: $log)" 1
				continue
			fi
			# kunit.py keeps the whole console of the boot there.
			console="$(build_dir "kunit-$a")/test.log"
			splats=$(scan_splats "$console" "${log%.log}-splats.txt")
			detail+="; splats $splats"
			[[ $splats -eq 0 ]] || sed 's/^/    splat: /' "${log%.log}-splats.txt" | head -n 20 >&2
			judge "$v" "$a" "$json" "$console" "$detail" "$splats"
		done
	done
	totals
}

# Sourced (scripts/test-scripts.sh tests judge()), it only defines.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || main "$@"
