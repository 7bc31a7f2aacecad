# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# One check of a check script: a command run as a process of its own (see
# run_step), its output in a log, one PASS/FAIL line; and the checks of
# check-series.sh that test-scripts.sh also runs on made-up input: the
# per-patch kernel build, trailers, checkpatch, present and absent.  Sourced after common.sh, trees.sh,
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

# checkpatch_one PATCH: scripts/checkpatch.pl --strict of TREE_DIR on PATCH
# must exit 0 and print nothing; a checkpatch that cannot run (wrong
# directory, unreadable patch) fails as much as one that finds something.
checkpatch_one() {
	local patch="$1" out rc=0

	# Run in the tree, as a maintainer does (spdxcheck, MAINTAINERS and the
	# tree's own rules).  The base is a tarball import without history, so
	# checkpatch cannot look up the upstream ids of Fixes: and commit
	# references: UNKNOWN_COMMIT_ID is ignored, and the ids are checked
	# against scripts/upstream-ids.txt instead.
	# Debian's python3 first: spdxcheck.py needs its python3-ply.
	out=$(cd "$TREE_DIR" && PATH="/usr/bin:$PATH" scripts/checkpatch.pl --strict --terse \
		--no-summary --ignore UNKNOWN_COMMIT_ID "$patch" 2>&1) || rc=$?
	printf '%s\n' "$out"
	[[ $rc -eq 0 ]] || { echo "checkpatch.pl exited $rc"; return 1; }
	[[ -z "$out" ]] || { echo "checkpatch.pl printed something"; return 1; }
}

# present FILE PCRE: the file of TREE_DIR matches (whole-file, grep -zP).
present() {
	grep -qzP -- "$2" "$TREE_DIR/$1"
}

# absent STRING FILE...: STRING occurs in none of the files of TREE_DIR,
# each of which must exist (a renamed file must not pass unseen).
absent() {
	local string="$1" f rc=0
	shift

	for f in "$@"; do
		[[ -f "$TREE_DIR/$f" ]] || { echo "$f does not exist in $TREE_DIR"; return 1; }
	done
	(cd "$TREE_DIR" && grep -n -- "$string" "$@") || rc=$?
	case $rc in
	0) return 1 ;;
	1) return 0 ;;
	*) echo "grep failed (exit $rc)"; return 1 ;;
	esac
}

# series_objects [REV]: set TOUCHED to the C and header files the series
# changes between the base and REV (default: the last of COMMITS; tools/
# aside), and OBJS to the objects of its C files.  Every one of them must
# build with check.config: one it leaves out fails its build ("no rule to
# make"), never drops out of the check unseen.  A C file that another
# touched C file includes from its directory or below (#include "file.c",
# #include "tests/file.c") is built as part of that one's object.
series_objects() {
	local rev="${1:-${COMMITS[-1]}}" f g dir included
	local -a files=()

	OBJS=()
	mapfile -t TOUCHED < <(git -C "$TREE_DIR" diff --name-only "$BASE_REF" "$rev" -- '*.c' '*.h' |
		grep -v '^tools/')
	mapfile -t files < <(printf '%s\n' "${TOUCHED[@]}" | grep '\.c$')
	for f in "${files[@]}"; do
		included=0
		for g in "${files[@]}"; do
			dir="${g%/*}/"
			[[ "$g" != "$f" && "$f" == "$dir"* ]] || continue
			# grep reads it all: no SIGPIPE for git under pipefail.
			if git -C "$TREE_DIR" show "$rev:$g" | grep -xF "#include \"${f#"$dir"}\"" >/dev/null; then
				included=1
			fi
		done
		[[ $included -eq 1 ]] || OBJS+=("${f%.c}.o")
	done
	[[ ${#OBJS[@]} -gt 0 ]] || die "the series of $TREE touches no C file outside tools/"
}

# series_work_tree NAME: the tree's series on its base in the work tree
# $TREE_WORK/NAME (TREE_DIR), locked for the rest of the run.  git am of
# the whole series is the first check; when it fails, the run ends there
# (its totals, exit 1): nothing after it would test the series.
series_work_tree() {
	series_patches
	base_fetch
	TREE_DIR="$TREE_WORK/$1"
	take_lock "$(lock_name "$TREE_DIR")"
	check "git am: ${#SERIES[@]} patches of $TREE onto base ${BASE_COMMIT:0:12}" am \
		apply_patches "$TREE_DIR" "${SERIES[@]}"
	if [[ $FAILED -ne 0 ]]; then
		totals
		exit 1
	fi
}
