# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Settings and helpers shared by every script: messages, counters, option
# checks, the cache directory and its locks.  Sourced, not run; the other
# libraries in this directory expect it first.

# shellcheck disable=SC2034 # used by the scripts that source this
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Everything large lives outside the repository.
CACHE_DIR="${FORKFIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/forkfix}"

PROG="${PROG:-$(basename "$0")}"

# NO_INSTALL=1 (or --no-install) never runs apt-get.
NO_INSTALL="${NO_INSTALL:-0}"

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}

log() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

need_tools() {
	local t missing=()

	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[[ ${#missing[@]} -eq 0 ]] || die "missing tool(s): ${missing[*]} (see README.md, 'Requirements')"
}

# need_count OPTION VALUE WHAT: VALUE must be a positive integer.
need_count() {
	[[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 takes $3, not '$2'"
}

# outside_repo PATH WHAT: die unless PATH (need not exist) is outside this
# repository.
outside_repo() {
	case "$(realpath -m "$1")/" in
	"$REPO_DIR"/*) die "$2 must be outside this repository: $1" ;;
	esac
}

# Seconds since $1 (from $SECONDS), as "1m23s".
elapsed() {
	local s=$((SECONDS - $1))

	printf '%dm%02ds' $((s / 60)) $((s % 60))
}

# The PASS/FAIL lines of the check scripts and their "N passed, N failed"
# totals.  report NAME STATUS [DETAIL]: STATUS 0 is a pass.
PASSED=0
FAILED=0

# count_lines FILE: the number of lines of FILE; dies when it cannot be
# read (a missing list is not an empty one).
count_lines() {
	[[ -r "$1" ]] || die "cannot read $1"
	wc -l <"$1"
}

# last_match ERE FILE: the last text in FILE that ERE matches (grep -o), or
# nothing when no line does; dies when FILE cannot be read (an unreadable
# console is not one without the line).
last_match() {
	local out rc=0

	out=$(grep -a -o -E -e "$1" -- "$2") || rc=$?
	[[ $rc -le 1 ]] || die "cannot read $2 (grep exit $rc)"
	printf '%s\n' "${out##*$'\n'}"
}

# count_matches ERE FILE: how many lines of FILE match ERE; dies when FILE
# cannot be read.
count_matches() {
	local n rc=0

	n=$(grep -a -c -E -e "$1" -- "$2") || rc=$?
	[[ $rc -le 1 ]] || die "cannot read $2 (grep exit $rc)"
	printf '%s\n' "$n"
}

report() {
	local name="$1" status="$2" detail="${3:-}"

	if [[ "$status" == 0 ]]; then
		PASSED=$((PASSED + 1))
		printf 'PASS  %s%s\n' "$name" "${detail:+ ($detail)}"
	else
		FAILED=$((FAILED + 1))
		printf 'FAIL  %s%s\n' "$name" "${detail:+ ($detail)}"
	fi
}

totals() {
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	[[ $FAILED -eq 0 ]]
}

# run_step LOG CMD...: run CMD as a process of its own with errexit in
# force inside it, output in LOG; its exit status goes to STEP_RC.  A shell
# function called as "f || rc=$?" or in an "if" runs with errexit off, so
# its failing commands would be ignored and only its last one would count.
# run_step must itself be called as a plain command for the same reason; it
# dies if it is not.
STEP_RC=0

run_step() {
	local log="$1" pid rc=0
	shift

	(false; true) &
	pid=$!
	wait "$pid" || rc=$?
	[[ $rc -ne 0 ]] || die "internal: run_step called where errexit is off (in an if, || or &&)"
	"$@" >"$log" 2>&1 </dev/null &
	pid=$!
	STEP_RC=0
	# shellcheck disable=SC2034 # read by the caller
	wait "$pid" || STEP_RC=$?
}

# --- Locks ------------------------------------------------------------------
# Every shared thing in the cache (a base repository, the scratch tree of
# git am, a work tree and its build directories) is used under a flock(1)
# lock named after it.  A lock is held until release_lock or the end of the
# process; a second run waits, saying for what.

declare -A HELD_LOCKS=()

# take_lock NAME: take the lock NAME, waiting for it if needed.
take_lock() {
	local name="$1" file fd

	[[ -z "${HELD_LOCKS[$name]:-}" ]] || return 0
	need_tools flock
	mkdir -p "$CACHE_DIR/locks"
	file="$CACHE_DIR/locks/$name.lock"
	exec {fd}>>"$file" || die "cannot open the lock file $file"
	if ! flock -n "$fd"; then
		log "waiting for $name: another run uses it ($(cat "$file.owner" 2>/dev/null || echo unknown))"
		flock "$fd" || die "cannot take the lock $file"
	fi
	printf 'pid %s, %s, since %s\n' "$$" "$PROG" "$(date +%T)" >"$file.owner"
	HELD_LOCKS[$name]=$fd
}

release_lock() {
	local name="$1" fd="${HELD_LOCKS[$1]:-}"

	[[ -n "$fd" ]] || return 0
	rm -f "$CACHE_DIR/locks/$name.lock.owner"
	exec {fd}>&-
	unset "HELD_LOCKS[$name]"
}

# A lock name for a path inside the cache.
lock_name() {
	local p="${1#"$CACHE_DIR"/}"

	p="${p//\//-}"
	printf '%s\n' "${p//[^A-Za-z0-9._-]/_}"
}

# --- Options ----------------------------------------------------------------

# split_list VALUE: print the comma separated items of VALUE, one a line.
split_list() {
	local item

	for item in ${1//,/ }; do
		printf '%s\n' "$item"
	done
}

# The options every script spells the same way.  common_opt OPT [ARG]
# handles one of them and sets OPT_SHIFT; it returns 1 for any other.
# common_opts_check then checks the values: TREE (--tree, default the
# first tree of the table), ARCH_OPT (--arch, a comma separated list or
# all), JOBS (--jobs), TIMEOUT (--timeout) and NO_INSTALL (--no-install).
# Scripts set their defaults before parsing; the environment does not
# count.
OPT_SHIFT=1
TREE=""
ARCH_OPT=""
JOBS=""
TIMEOUT=""

common_opt() {
	case "$1" in
	--tree) TREE="$2"; OPT_SHIFT=2 ;;
	-a | --arch) ARCH_OPT="$2"; OPT_SHIFT=2 ;;
	-j | --jobs) JOBS="$2"; OPT_SHIFT=2 ;;
	--timeout) TIMEOUT="$2"; OPT_SHIFT=2 ;;
	--no-install) NO_INSTALL=1; OPT_SHIFT=1 ;;
	*) return 1 ;;
	esac
}

common_opts_check() {
	tree_vars "${TREE:-$DEFAULT_TREE}"
	[[ -z "${ARCH_OPT:-}" ]] || parse_arches "$ARCH_OPT"
	[[ -z "${JOBS:-}" ]] || need_count --jobs "$JOBS" "a positive number"
	[[ -z "${TIMEOUT:-}" ]] || need_count --timeout "$TIMEOUT" seconds
}
