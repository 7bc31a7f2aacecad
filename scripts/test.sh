#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The project's test command: every check, in order, one progress line per
# step, then "N passed, N failed" over all of them.
set -euo pipefail

PROG=$(basename "$0")
SCRIPTS_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPTS_DIR/lib.sh"

STEPS_ALL="scripts,series,kunit,qemu,qemu-base"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Run the project's tests, in this order:
  scripts    scripts/test-scripts.sh: bad input to every script
  series     scripts/check-series.sh: git am, checkpatch --strict, builds
             after every patch (x86_64, arm64), tools/testing/vma, !MMU
             build, kernel-doc
  kunit      scripts/run-kunit.sh: kunit.py on x86_64 and arm64, patched
             and the negative control (base + test patch)
  qemu       ./run-qemu.sh: debug kernel, KUnit with fault injection, fork
             sweep, kmemleak and splat scan on x86_64 and arm64
  qemu-base  ./run-qemu.sh --base: must exit non-zero and report failing
             KUnit cases on the unpatched base
Every PASS/FAIL line of the steps counts; the last line is
"N passed, N failed".  Logs: \$CACHE_DIR/logs/test-<step>.log.
Missing Debian packages are installed when run as root.

Options:
  -s, --steps LIST   steps to run (default: $STEPS_ALL)
  -h, --help         show this help
EOT
}

# All packages of all steps: the QEMU ones come from run-qemu.sh itself.
PACKAGES=(git make gcc bc bison flex perl python3 libelf-dev libssl-dev xz-utils
	  ccache liburcu-dev cpio gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu
	  libc6-dev-arm64-cross qemu-system-x86 qemu-system-arm qemu-system-data)

install_packages() {
	local missing=() p

	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0
	[[ $EUID -eq 0 ]] || die "missing packages; run: apt-get install -y --no-install-recommends ${missing[*]}"
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
		>/dev/null || die "apt-get install failed for: ${missing[*]}"
}

# step NAME EXPECT CMD...: run one step, keep its PASS/FAIL lines and add up
# its "N passed, N failed".  EXPECT "fail" inverts the exit status check
# (the negative control).
step() {
	local name="$1" expect="$2" log="$CACHE_DIR/logs/test-$1.log" start=$SECONDS rc=0 p f
	shift 2

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

# The negative control must fail because the suite fails, on every arch.
check_base_failures() {
	local json="$1" line

	if [[ ! -f "$json" ]]; then
		report "qemu-base: KUnit cases fail on the base" 1 "no $json"
		return
	fi
	while IFS= read -r line; do
		report "qemu-base: ${line#* }" "${line%% *}"
	done < <(python3 - "$json" <<'EOF'
import json, sys
for run in json.load(open(sys.argv[1]))["runs"]:
    failed = run["kunit_boot"]["failed"]
    ok = failed > 0 and run["kunit_boot"]["errors"] == 0
    print(0 if ok else 1, "%s: %d KUnit cases fail on the base" % (run["arch"], failed))
EOF
	)
}

main() {
	local steps="$STEPS_ALL" opts s start=$SECONDS

	opts=$(getopt -o hs: -l help,steps: -n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		-s | --steps) steps="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	for s in ${steps//,/ }; do
		[[ ",$STEPS_ALL," == *",$s,"* ]] || die "unknown step '$s' (known: $STEPS_ALL)"
	done
	install_packages
	mkdir -p "$CACHE_DIR/logs"

	for s in ${steps//,/ }; do
		case "$s" in
		scripts) step scripts pass "$SCRIPTS_DIR/test-scripts.sh" ;;
		series) step series pass "$SCRIPTS_DIR/check-series.sh" ;;
		kunit) step kunit pass "$SCRIPTS_DIR/run-kunit.sh" ;;
		qemu) step qemu pass "$REPO_DIR/run-qemu.sh" ;;
		qemu-base)
			step qemu-base fail "$REPO_DIR/run-qemu.sh" --base \
				--results "$CACHE_DIR/results/test-qemu-base"
			check_base_failures "$CACHE_DIR/results/test-qemu-base/summary.json"
			;;
		esac
	done
	printf '%s: all steps took %s\n' "$PROG" "$(elapsed "$start")" >&2
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	[[ $FAILED -eq 0 ]]
}

main "$@"
