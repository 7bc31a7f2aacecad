# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# One check of a check script: a command run as a process of its own (see
# run_step), its output in a log, one PASS/FAIL line; and the per-patch
# kernel build of check-series.sh.  Sourced after common.sh, trees.sh,
# arches.sh and kernel.sh.

CHECK_CONFIG="$REPO_DIR/scripts/configs/check.config"

# check NAME LOGNAME CMD...: run CMD, log in $LOG_DIR/LOGNAME.log, report.
# Call it as a plain command (not in an if, || or &&).
check() {
	local name="$1" log="$LOG_DIR/$2.log" start=$SECONDS
	shift 2

	printf '%s: running: %s\n' "$PROG" "$name" >&2
	run_step "$log" "$@"
	if [[ $STEP_RC -ne 0 ]]; then
		sed 's/^/    | /' "$log" | tail -n 15 >&2
		report "$name" 1 "exit $STEP_RC, $(elapsed "$start"), log: $log"
	else
		report "$name" 0 "$(elapsed "$start")"
	fi
}

# check_build ARCH SHORT: configure and build the work tree TREE_DIR for
# ARCH in its build directory: tinyconfig + CHECK_CONFIG + the tree's
# lines, or nommu_virt_defconfig for riscv-nommu.  Logs in LOG_DIR; the
# options are checked only when LAST=1 (the suite's symbol exists only once
# its patch is applied).  Every step counts (it runs as a process of its
# own under check).
check_build() {
	local arch="$1" short="$2" out

	arch_vars "$arch"
	out=$(build_dir "$arch")
	if [[ "$arch" == riscv-nommu ]]; then
		CONFIG_CHECK=0 configure "$out" "$LOG_DIR/config-$arch-$short.log" nommu_virt_defconfig
	else
		CONFIG_CHECK="${LAST:-1}" configure "$out" "$LOG_DIR/config-$arch-$short.log" \
			tinyconfig "$CHECK_CONFIG"
	fi
	build_kernel "$out" "$LOG_DIR/make-$arch-$short.log"
}
