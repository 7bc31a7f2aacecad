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

# check_build ARCH SHORT [TARGET...]: configure and build the work tree
# TREE_DIR for ARCH in its build directory (the TARGETs, default the
# kernel image): tinyconfig + CHECK_CONFIG + the tree's lines, or
# nommu_virt_defconfig for riscv-nommu.  Logs in LOG_DIR; the options are
# checked only when LAST=1 (the suite's symbol exists only once its patch
# is applied).  Every step counts (it runs as a process of its own under
# check).
check_build() {
	local arch="$1" short="$2" out
	shift 2

	arch_vars "$arch"
	out=$(build_dir "$arch")
	if [[ "$arch" == riscv-nommu ]]; then
		CONFIG_CHECK=0 configure "$out" "$LOG_DIR/config-$arch-$short.log" nommu_virt_defconfig
	else
		CONFIG_CHECK="${LAST:-1}" configure "$out" "$LOG_DIR/config-$arch-$short.log" \
			tinyconfig "$CHECK_CONFIG"
	fi
	build_kernel "$out" "$LOG_DIR/make-$arch-$short.log" "$@"
}

# trailers PATCH...: what git interpret-trailers --parse reads back from
# each commit message must be its whole last paragraph, with a
# Signed-off-by:, and every Fixes:/Cc:/Link:-style line of the message must
# be among them (a trailer outside the last paragraph is lost).
trailers() {
	local patch msg parsed last bad=0 line

	for patch in "$@"; do
		msg=$(python3 -c 'import sys; s = open(sys.argv[1]).read(); print(s.split("\n\n", 1)[1].split("\n---\n", 1)[0])' "$patch")
		parsed=$(git interpret-trailers --parse <<<"$msg")
		last=$(awk 'BEGIN { RS = ""; } { p = $0 } END { print p }' <<<"$msg")
		if [[ "$parsed" != "$last" ]]; then
			printf '%s: the last paragraph is not all trailers, or they do not parse:\n%s\n--- parsed:\n%s\n' \
				"${patch##*/}" "$last" "$parsed"
			bad=1
		fi
		grep -q '^Signed-off-by: ' <<<"$parsed" || { echo "${patch##*/}: no Signed-off-by:"; bad=1; }
		while IFS= read -r line; do
			grep -qxF -- "$line" <<<"$parsed" ||
				{ echo "${patch##*/}: trailer outside the trailer block: $line"; bad=1; }
		done < <(grep -E '^(Fixes|Cc|Link|Reported-by|Suggested-by|Reviewed-by|Acked-by|Tested-by|Closes|Signed-off-by): ' <<<"$msg" || true)
		printf '%s: %s trailer(s)\n' "${patch##*/}" "$(grep -c . <<<"$parsed")"
	done
	return "$bad"
}
