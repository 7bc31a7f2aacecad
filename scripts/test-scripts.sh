#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of the project's own scripts: bad input must give one clear error
# line and a non-zero exit, and leave no state behind.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Run the scripts of this repository with bad input and check that each one
exits non-zero with exactly one "<script>: error: ..." line that names the
problem, and leaves nothing half-done:
  - unknown option, unknown arch, unknown tree, bad numbers, for every
    script;
  - shellcheck -S warning finds nothing in any script;
  - a check whose config step fails (make tinyconfig, through a stub make)
    or whose first command fails must report FAIL;
  - get-base.sh with a Debian version the archive does not carry, for the
    6.12.y base (machine apt) and the mainline base (the private apt
    configuration; the machine's apt must still not list it): the error
    lists exactly the versions the same index offers;
  - a copy whose 6.12.y pin names a version the archive lacks: get-base.sh
    and debian-configs.sh (arm64, a foreign architecture) fail with one
    line naming what is on offer and the scripts/repin.sh command, and
    leave no base, download or results behind; debian-versions.sh --pins
    reports the base and each configuration package GONE;
  - repin.sh without or with a malformed --version, or one the index
    lacks (both trees): one error line, no pin or patch changed; its dry
    run prints the index's sha256; a malformed pin file stops tree_vars;
    a tree with no pin file: get-base.sh names the repin command, and
    repin.sh's dry run gives its first pins;
  - the plan tables of README.md and docs/test-plan.md name each tree's
    steps of the tree table, in order (one without qemu-5level fails);
  - run-qemu.sh without QEMU, as a user who cannot install it;
  - the trailer check of check-series.sh on a message with a cut-off Fixes:
    and on one with text among its trailers;
  - the checkpatch judge with a stub checkpatch.pl that is missing, exits
    non-zero (silently or with "Must be run from the top-level dir") or
    prints a WARNING: each fails; absent() on a missing file fails;
  - the splat scan of each tree on a made-up line of every failure
    message its kernel prints (page-table errors, bad swap entries,
    SLUB reports, RCU stalls, hung tasks, dropped printk messages): each
    is caught, and the lines of a clean run are not;
  - run-qemu.sh's judge on the console of a real passing run
    (scripts/tests/) passes, and fails on copies with a page-table error,
    a SLUB report, init counting failed checks, no "done" line, a FAIL
    line of init, a case lost from the debugfs rerun, a case skipped that
    the tree table does not allow, the sweep skipped for another reason,
    or no figure of what the sweep's removed memcg still holds;
  - run-kunit.sh's judge on real kunit.py consoles (scripts/tests/): the
    series passes, and fails with a page-table error, a lockdep report, a
    skip the tree table does not allow, or a failed case; the negative
    control passes, and fails with a teardown case passing or failing for
    another reason; a broken variant passes when caught, and fails
    without its message or when its message came before the kernel hung;
  - test.sh's step(): a negative control passes only when its command
    fails, and the counts of a step's log add up;
  - test.sh's judge of a broken variant of the guest's checks: a console
    failing the targeted check passes, one failing another check or none
    fails;
  - selftests_results.py's kmemleak judge on made-up results: an object
    the base does not leak fails the series, even when the counts match;
  - test.sh's judge of the negative control on a real qemu-base console:
    it passes, and fails with a teardown case passing at boot or in the
    debugfs rerun, or the rerun failing for another reason;
  - check-apply.sh on a copy whose patch 2 has a folded Subject: line and
    whose patch 3 lost linux-mm from Cc: the b4 checks, the recipients and
    the re-export must fail, git am, quilt and the DEP-3 form pass;
  - check-robot.sh's judge on a made-up make log: other files' warnings
    are not listed, a warning that moved is not new, a new warning and a
    second copy of an old one fail;
  - dep3.py check on the shipped DEP-3 form (passes) and on copies with a
    Forwarded: missing, a To: left in, an Origin: with a short id, a
    [PATCH] subject and a series naming a missing patch (each fails);
  - the judge of stress-ng.sh on made-up consoles: a good one passes, one
    without ENOMEM in the injected runs, one with a missed kretprobe return
    and one with a splat on the series fail;
  - run-qemu.sh with a patch that does not apply (the work tree is left
    as it was);
  - run-qemu.sh with a guest that does not power off in time (QEMU is
    killed, the error names the console log, and the QEMU of the pid file
    in the results directory is gone).
The last two need the base and, for the hang, an x86_64 build: they take a
few minutes when the cache is cold.  Prints PASS/FAIL lines and
"N passed, N failed".

Options:
      --quick       skip the two slow cases
      --only LIST   only these tests, comma separated (names: the test_
                    functions without test_)
  -h, --help        show this help
EOT
}

TMP=""
cleanup() {
	[[ -n "$TMP" ]] && rm -rf "$TMP"
}

# expect_error NAME PATTERN CMD...: CMD must fail with one error line
# matching PATTERN.
expect_error() {
	local name="$1" pattern="$2" rc=0 errors detail
	shift 2

	"$@" >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
	errors=$(grep -c -E '^[^ ]+: error: ' "$TMP/err" || true)
	detail="exit $rc; $(grep -m1 -E ': error: ' "$TMP/err" || tail -n1 "$TMP/err")"
	if [[ $rc -ne 0 && "$errors" -eq 1 ]] && grep -q -E -e "$pattern" "$TMP/err"; then
		report "$name" 0 "$detail"
	else
		report "$name" 1 "$detail"
	fi
}

# expect_usage NAME CMD...: an unknown option prints the usage, exit 2.
expect_usage() {
	local name="$1" rc=0
	shift

	"$@" >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
	if [[ $rc -eq 2 ]] && grep -q -E 'unrecognized option|invalid option' "$TMP/err" &&
	   grep -q '^Usage:' "$TMP/err"; then
		report "$name" 0 "exit 2, usage"
	else
		report "$name" 1 "exit $rc"
	fi
}

SCRIPTS=(run-qemu.sh scripts/check-series.sh scripts/run-kunit.sh scripts/get-base.sh
	 scripts/apply-series.sh scripts/export-series.sh scripts/bench.sh scripts/test.sh
	 scripts/check-apply.sh scripts/debian-versions.sh scripts/class-race.sh
	 scripts/debian-configs.sh scripts/mm-selftests.sh scripts/stress-ng.sh scripts/repin.sh
	 scripts/check-robot.sh)

test_options() {
	local s

	for s in "${SCRIPTS[@]}"; do
		if "$REPO_DIR/$s" --help >"$TMP/out" 2>&1 && grep -q '^Usage:' "$TMP/out"; then
			report "$s --help" 0
		else
			report "$s --help" 1
		fi
		expect_usage "$s --no-such-option" "$REPO_DIR/$s" --no-such-option
		expect_error "$s --tree no-such-tree" "unknown tree 'no-such-tree'" \
			"$REPO_DIR/$s" --tree no-such-tree
	done
	for s in run-qemu.sh scripts/check-series.sh scripts/run-kunit.sh scripts/bench.sh \
		 scripts/class-race.sh scripts/debian-configs.sh scripts/mm-selftests.sh \
		 scripts/stress-ng.sh; do
		expect_error "$s --arch sparc" "unknown arch 'sparc'" "$REPO_DIR/$s" --arch sparc
		expect_error "$s --arch x86_64,sparc" "unknown arch 'sparc'" "$REPO_DIR/$s" --arch x86_64,sparc
		expect_error "$s --jobs 0" "--jobs takes a positive number" "$REPO_DIR/$s" --jobs 0
		expect_error "$s extra argument" "unexpected argument" "$REPO_DIR/$s" x86_64
	done
	# UML is for kunit.py alone: every other script refuses it.
	for s in run-qemu.sh scripts/check-series.sh scripts/bench.sh scripts/class-race.sh \
		 scripts/debian-configs.sh scripts/mm-selftests.sh scripts/stress-ng.sh; do
		expect_error "$s --arch um" "unknown arch 'um'" "$REPO_DIR/$s" --arch um
	done
	for s in run-qemu.sh scripts/run-kunit.sh scripts/bench.sh; do
		expect_error "$s --timeout soon" "--timeout takes seconds" "$REPO_DIR/$s" --timeout soon
	done
	expect_error "run-qemu.sh --walk-seconds a-minute" "--walk-seconds needs a whole number" \
		"$REPO_DIR/run-qemu.sh" --walk-seconds a-minute
	expect_error "run-qemu.sh --broken '../x'" "--broken takes the name of a broken variant" \
		"$REPO_DIR/run-qemu.sh" --broken ../x
	expect_error "bench.sh --pairs 0" "--pairs takes a positive number" \
		"$REPO_DIR/scripts/bench.sh" --pairs 0
	expect_error "test.sh --steps everything" "unknown step" "$REPO_DIR/scripts/test.sh" --steps everything
	expect_error "check-series.sh --per-patch all" "--per-patch takes kernel or objects" \
		"$REPO_DIR/scripts/check-series.sh" --per-patch all
	expect_error "check-robot.sh --builds sparc" "unknown build 'sparc'" \
		"$REPO_DIR/scripts/check-robot.sh" --builds gcc,sparc
	expect_error "apply-series.sh --upto two" "--upto takes a number" \
		"$REPO_DIR/scripts/apply-series.sh" --upto two
	expect_error "export-series.sh without --work-dir" "--work-dir is required" \
		"$REPO_DIR/scripts/export-series.sh"
	expect_error "class-race.sh --variant all" "--variant takes base, patched or both" \
		"$REPO_DIR/scripts/class-race.sh" --variant all
	expect_error "class-race.sh --runs 0" "--runs takes a positive number" \
		"$REPO_DIR/scripts/class-race.sh" --runs 0
	expect_error "class-race.sh --tree mainline" "mainline has no test-only class patches" \
		"$REPO_DIR/scripts/class-race.sh" --tree mainline
	expect_error "export-series.sh --post into the repository" "--post writes outside this repository" \
		"$REPO_DIR/scripts/export-series.sh" --post "$REPO_DIR/posted"
	expect_error "debian-configs.sh --flavour '../x'" "--flavour takes names of configurations" \
		"$REPO_DIR/scripts/debian-configs.sh" --flavour ../x
	expect_error "debian-configs.sh --results inside the repository" "must be outside this repository" \
		"$REPO_DIR/scripts/debian-configs.sh" --results "$REPO_DIR/results"
	expect_error "mm-selftests.sh --variant all" "--variant takes base, patched or both" \
		"$REPO_DIR/scripts/mm-selftests.sh" --variant all
	expect_error "mm-selftests.sh --only no-such-test" "no test 'no-such-test' in the plan" \
		"$REPO_DIR/scripts/mm-selftests.sh" --only cow,no-such-test
	expect_error "mm-selftests.sh --results inside the repository" "must be outside this repository" \
		"$REPO_DIR/scripts/mm-selftests.sh" --results "$REPO_DIR/results"
	expect_error "stress-ng.sh --variant all" "--variant takes base, patched or both" \
		"$REPO_DIR/scripts/stress-ng.sh" --variant all
	expect_error "stress-ng.sh --probability 101" "--probability is a percentage" \
		"$REPO_DIR/scripts/stress-ng.sh" --probability 101
	expect_error "stress-ng.sh --seconds 0" "--seconds takes seconds" \
		"$REPO_DIR/scripts/stress-ng.sh" --seconds 0
	expect_error "stress-ng.sh --results inside the repository" "must be outside this repository" \
		"$REPO_DIR/scripts/stress-ng.sh" --results "$REPO_DIR/results"
	expect_error "debian-versions.sh --suites hamm" "unknown suite 'hamm'" \
		"$REPO_DIR/scripts/debian-versions.sh" --suites trixie,hamm
}

# A check must fail when any of its steps fails, not only its last one.
# Runs the real check() and check_build() of check-series.sh against a fake
# tree, with a stub make that fails one config target.
test_check_propagates() {
	local fake="$TMP/fake-tree" bin="$TMP/stub-bin" line

	mkdir -p "$fake/scripts/kconfig" "$bin"
	printf '#!/bin/sh\nexit 0\n' >"$fake/scripts/kconfig/merge_config.sh"
	# The stub make "builds" everything but FAIL_TARGET, and leaves a
	# .config that satisfies the option check.
	cat >"$bin/make" <<'EOT'
#!/bin/sh
out=""
for a in "$@"; do
	case "$a" in
	O=*) out="${a#O=}" ;;
	"$FAIL_TARGET") echo "stub make: $a fails" >&2; exit 2 ;;
	esac
done
[ -z "$out" ] || cat "$STUB_CONFIG" >"$out/.config"
exit 0
EOT
	chmod +x "$fake/scripts/kconfig/merge_config.sh" "$bin/make"
	tree_vars "$DEFAULT_TREE"
	{ requested_options "$CHECK_CONFIG"; printf 'CONFIG_%s=y\n' "$TREE_KCONFIG"; } >"$TMP/stub.config"

	check_one() {
		local fail_target="$1" want="$2" name="$3"

		# errexit is off in a command substitution until set again.
		line=$(
			set -e
			export FAIL_TARGET="$fail_target" STUB_CONFIG="$TMP/stub.config"
			PATH="$bin:$PATH" TREE_DIR="$fake" LOG_DIR="$TMP" JOBS=1 LAST=1 PASSED=0 FAILED=0
			check "stub build" stub-build check_build x86_64 0000 2>/dev/null
		)
		if [[ "$line" == "$want "* ]]; then
			report "$name" 0 "${line%% (*}"
		else
			report "$name" 1 "got: ${line:-nothing}"
		fi
	}
	check_one none PASS "check-series build check with a stub make that succeeds: PASS"
	check_one tinyconfig FAIL "check-series build check whose 'make tinyconfig' fails: FAIL"
	check_one olddefconfig FAIL "check-series build check whose 'make olddefconfig' fails: FAIL"

	first_fails() {
		false
		true
	}
	line=$(set -e; LOG_DIR="$TMP" check "first of two commands fails" first first_fails 2>/dev/null)
	if [[ "$line" == "FAIL "* ]]; then
		report "a check whose first command fails (the last succeeds): FAIL" 0
	else
		report "a check whose first command fails (the last succeeds): FAIL" 1 "got: $line"
	fi
}

# The checkpatch and content checks of check-series.sh (lib/check.sh) on
# a fake tree: a checkpatch that cannot run, or exits non-zero, or prints
# anything fails; absent() fails on a missing file as on a found string.
test_check_judges() {
	local fake="$TMP/judge-tree" patch="$TMP/judge.patch" name rc
	local -a cases

	mkdir -p "$fake/scripts"
	printf 'diff\n' >"$patch"
	# name|stub body|expected status (0 pass)
	cases=('no checkpatch.pl||1'
	       'checkpatch.pl exits 0, prints nothing|exit 0|0'
	       '"Must be run from the top-level dir", exit 2|echo "Must be run from the top-level dir."; exit 2|1'
	       'a WARNING line, exit 0|echo "x.patch:1: WARNING: foo"; exit 0|1'
	       'silent, exit 1|exit 1|1')
	for c in "${cases[@]}"; do
		IFS='|' read -r name body want <<<"$c"
		rm -f "$fake/scripts/checkpatch.pl"
		if [[ -n "$body" ]]; then
			printf '#!/bin/sh\n%s\n' "$body" >"$fake/scripts/checkpatch.pl"
			chmod +x "$fake/scripts/checkpatch.pl"
		fi
		rc=0
		(TREE_DIR="$fake" checkpatch_one "$patch") >/dev/null 2>&1 || rc=1
		report "checkpatch judge, $name: $([[ $want == 0 ]] && echo passes || echo fails)" \
			"$([[ $rc == "$want" ]] && echo 0 || echo 1)"
	done

	printf 'int a;\n' >"$fake/clean.c"
	printf 'if (xa_is_zero(vma))\n' >"$fake/marker.c"
	cases=('clean.c|0' 'clean.c marker.c|1' 'clean.c renamed.c|1')
	for c in "${cases[@]}"; do
		IFS='|' read -r name want <<<"$c"
		rc=0
		# shellcheck disable=SC2086 # a list of files
		(TREE_DIR="$fake" absent xa_is_zero $name) >/dev/null 2>&1 || rc=1
		report "absent xa_is_zero in $name: $([[ $want == 0 ]] && echo passes || echo fails)" \
			"$([[ $rc == "$want" ]] && echo 0 || echo 1)"
	done
}

# Debian's shellcheck finds nothing at warning level in any script, the
# sourced libraries included.
test_shellcheck() {
	local files=() out

	mapfile -t files < <(cd "$REPO_DIR" && git ls-files --cached --others --exclude-standard '*.sh' .ci/run scripts/lib/qemu-tcg)
	if ! command -v shellcheck >/dev/null 2>&1; then
		report "shellcheck on ${#files[@]} scripts" 1 "shellcheck is not installed"
		return
	fi
	if out=$(cd "$REPO_DIR" && shellcheck -x -P SCRIPTDIR -S warning -s bash "${files[@]}" 2>&1); then
		report "shellcheck -S warning on ${#files[@]} scripts: nothing found" 0
	else
		printf '%s\n' "$out" | head -n 20 >&2
		report "shellcheck -S warning on ${#files[@]} scripts: nothing found" 1 \
			"$(grep -c '^In ' <<<"$out") findings"
	fi
}

# The archive does not carry this version: the error lists what it has.
test_missing_version() {
	expect_error "get-base.sh --version 6.12.1-1 (not in the archive)" \
		"not .*(available|offer)|versions" "$REPO_DIR/scripts/get-base.sh" --version 6.12.1-1
	tree_vars "$DEFAULT_TREE"
	if [[ -e "$(base_dir_of 6.12.1-1)" ]]; then
		report "get-base.sh --version 6.12.1-1 leaves no base directory" 1
	else
		report "get-base.sh --version 6.12.1-1 leaves no base directory" 0
	fi
}

# ere TEXT: TEXT as an extended regular expression that matches only it.
ere() {
	sed 's/[][\\.*^$+?(){}|]/\\&/g' <<<"$1"
}

# offered_versions PKG [SUITE MIRROR [DEBARCH]]: the versions of PKG that
# the index offers, newest first, space separated: the machine's apt, or
# the private apt configuration of SUITE.  What the scripts' messages must
# list.
offered_versions() {
	local pkg="$1" suite="${2:-}" mirror="${3:-}" debarch="${4:-}"

	APT_OPTS=()
	[[ -z "$suite" ]] || apt_private "$suite" "$mirror" "$debarch" >/dev/null 2>&1
	index_versions "$pkg" | paste -s -d ' '
}

# The mainline base is in a suite the machine's apt does not list: the
# private apt configuration in the cache finds it, lists what that index
# has for a version it lacks, and leaves the machine's apt as it was.
test_private_apt() {
	local before after offer

	tree_vars mainline
	before=$(apt-cache policy "$TREE_PKG" 2>/dev/null | md5sum)
	offer=$(offered_versions "$TREE_PKG" "$TREE_APT_SUITE" "$TREE_APT_MIRROR")
	expect_error "get-base.sh --tree mainline --version 7.3.1-1 lists what $TREE_APT_SUITE offers (${offer:-nothing})" \
		"$(ere "$TREE_PKG 7.3.1-1 is not in the archive; on offer: $offer (choose one with --version")" \
		"$REPO_DIR/scripts/get-base.sh" --tree mainline --version 7.3.1-1
	after=$(apt-cache policy "$TREE_PKG" 2>/dev/null | md5sum)
	if [[ -n "$offer" && "$before" == "$after" ]] && ! apt-cache show "$TREE_PKG" >/dev/null 2>&1; then
		report "the machine's own apt still does not list $TREE_PKG" 0
	else
		report "the machine's own apt still does not list $TREE_PKG" 1
	fi
}

# pin_copy DIR VERSION: a copy of the repository in DIR whose 6.12.y pin
# names VERSION.
pin_copy() {
	local dir="$1" ver="$2"

	mkdir -p "$dir"
	cp -a "$REPO_DIR/run-qemu.sh" "$REPO_DIR/Kconfig.fragment" "$REPO_DIR/scripts" \
		"$REPO_DIR/patches" "$REPO_DIR/kunit" "$dir/"
	sed -i "s/^version .*/version $ver/" "$dir/scripts/pins/$DEFAULT_TREE"
}

# A pin the archive no longer serves: the scripts that fetch it fail with
# one line that lists the versions the index offers (read here from the
# same index) and the repin command for the newest; a package of another
# architecture leaves the machine's apt architectures as they were, and no
# download behind.
test_pin_gone() {
	local copy="$TMP/repo-pin" offer before after

	tree_vars "$DEFAULT_TREE"
	pin_copy "$copy" 6.12.1-1
	offer=$(offered_versions "$TREE_PKG")
	expect_error "get-base.sh with a pin the archive lacks: on offer ${offer:-nothing}, the repin command" \
		"$(ere "$TREE_PKG 6.12.1-1 is not in the archive; on offer: $offer (the pin of $TREE is gone: run scripts/repin.sh --tree $TREE --version ${offer%% *})")" \
		"$copy/scripts/get-base.sh"
	if [[ -e "$(base_dir_of 6.12.1-1)" ]]; then
		report "get-base.sh with a pin the archive lacks leaves no base directory" 1
	else
		report "get-base.sh with a pin the archive lacks leaves no base directory" 0
	fi

	# The pin report says so for the base and each configuration.
	if "$copy/scripts/debian-versions.sh" --pins --tree "$TREE" >"$TMP/out" 2>"$TMP/err" &&
	   [[ "$(grep -c "^$TREE .* 6\.12\.1-1 *GONE " "$TMP/out")" -eq $((1 + ${#TREE_DEBCONFIG_SHA256[@]})) ]] &&
	   grep -q "GONE (move it: scripts/repin.sh --tree $TREE --version ${offer%% *})" "$TMP/out"; then
		report "debian-versions.sh --pins with a pin the archive lacks: GONE for the base and each configuration" 0
	else
		report "debian-versions.sh --pins with a pin the archive lacks: GONE for the base and each configuration" 1 \
			"$(head -n3 "$TMP/out" | tr '\n' '|') $(tail -n1 "$TMP/err")"
	fi
	if "$REPO_DIR/scripts/debian-versions.sh" --pins >"$TMP/out" 2>"$TMP/err" &&
	   [[ "$(grep -c -E ' (served|GONE) ' "$TMP/out")" -ge 4 ]]; then
		report "debian-versions.sh --pins on the shipped pins: a line per package ($(grep -c ' served ' "$TMP/out") served)" 0
	else
		report "debian-versions.sh --pins on the shipped pins: a line per package" 1 "$(tail -n1 "$TMP/err")"
	fi

	before=$(dpkg --print-foreign-architectures | md5sum)
	offer=$(offered_versions "$TREE_DEBCONFIG_PKG" "$TREE_DEBCONFIG_SUITE" "$TREE_DEBCONFIG_MIRROR" arm64)
	expect_error "debian-configs.sh with a pin the archive lacks (arm64): on offer ${offer:-nothing}, the repin command" \
		"$(ere "$TREE_DEBCONFIG_PKG 6.12.1-1 (arm64) is not in $TREE_DEBCONFIG_SUITE; on offer: $offer (the pin of $TREE is gone: run scripts/repin.sh --tree $TREE --version ${offer%% *})")" \
		"$copy/scripts/debian-configs.sh" --arch arm64 --results "$TMP/results-pin"
	after=$(dpkg --print-foreign-architectures | md5sum)
	if [[ "$before" == "$after" && ! -e "$TMP/results-pin" ]] &&
	   ! compgen -G "$CACHE_DIR/debs/${TREE_DEBCONFIG_PKG}_6.12.1-1*" >/dev/null &&
	   ! compgen -G "$CACHE_DIR/tmp.download.*" >/dev/null; then
		report "the machine's apt architectures are unchanged, no download or results left behind" 0
	else
		report "the machine's apt architectures are unchanged, no download or results left behind" 1
	fi
}

# repin_dry_run NAME VERSION SHA256 CONFIGS REPIN [ARG...]: REPIN --dry-run
# --version VERSION prints that version, that sha256 and CONFIGS config pins.
repin_dry_run() {
	local name="$1" ver="$2" sha="$3" configs="$4"
	shift 4

	if "$@" --dry-run --version "$ver" >"$TMP/out" 2>"$TMP/err" &&
	   grep -qx "version $ver" "$TMP/out" && grep -qx "source-sha256 $sha" "$TMP/out" &&
	   [[ "$(grep -c '^config-sha256 [a-z0-9]* [0-9a-f]\{64\}$' "$TMP/out")" -eq "$configs" ]]; then
		report "$name" 0
	else
		report "$name" 1 "$(tail -n1 "$TMP/err")"
	fi
}

# repin.sh: bad input fails with one line and changes nothing; its dry run
# gives the sha256 the index gives; a malformed pin file stops every script.
test_repin() {
	local before after newest sha bad="$TMP/pins" t name body

	tree_vars "$DEFAULT_TREE"
	before=$(cd "$REPO_DIR" && find scripts/pins patches -type f -print0 | sort -z | xargs -0 md5sum | md5sum)
	expect_error "repin.sh without --version" "--version is required" "$REPO_DIR/scripts/repin.sh"
	expect_error "repin.sh --version '6.12;x'" "--version takes a Debian version" \
		"$REPO_DIR/scripts/repin.sh" --version '6.12;x'
	expect_error "repin.sh --version 6.12.1-1 (not in the archive): lists what the index offers" \
		"$(ere "$TREE_PKG 6.12.1-1 is not in the machine's apt sources; on offer: $(offered_versions "$TREE_PKG") (nothing changed)")" \
		"$REPO_DIR/scripts/repin.sh" --version 6.12.1-1
	tree_vars mainline
	expect_error "repin.sh --tree mainline --version 7.3.1-1 (not in $TREE_APT_SUITE)" \
		"$(ere "$TREE_PKG 7.3.1-1 is not in $TREE_APT_SUITE; on offer: $(offered_versions "$TREE_PKG" "$TREE_APT_SUITE" "$TREE_APT_MIRROR") (nothing changed)")" \
		"$REPO_DIR/scripts/repin.sh" --tree mainline --version 7.3.1-1
	after=$(cd "$REPO_DIR" && find scripts/pins patches -type f -print0 | sort -z | xargs -0 md5sum | md5sum)
	report "repin.sh with bad input changes no pin and no patch" "$([[ "$before" == "$after" ]] && echo 0 || echo 1)"

	tree_vars "$DEFAULT_TREE"
	newest=$(offered_versions "$TREE_PKG")
	newest="${newest%% *}"
	sha=$(apt-cache show "$TREE_PKG=$newest" 2>/dev/null | awk '/^SHA256:/ {print $2; exit}')
	repin_dry_run "repin.sh --dry-run --version $newest: the index's sha256, a config pin per arch" \
		"$newest" "$sha" "${#TREE_DEBCONFIG_SHA256[@]}" "$REPO_DIR/scripts/repin.sh"

	# A new tree: no pin file.  Other scripts stop with the repin command;
	# repin.sh's dry run gives its first pins, a config pin per arch.
	pin_copy "$TMP/repo-new" "$TREE_VERSION"
	rm "$TMP/repo-new/scripts/pins/mainline"
	tree_vars mainline
	expect_error "get-base.sh of a tree with no pin file: the repin command" \
		"$(ere "no pin file for tree mainline: $TMP/repo-new/scripts/pins/mainline (write it: scripts/repin.sh --tree mainline --version VER)")" \
		"$TMP/repo-new/scripts/get-base.sh" --tree mainline
	repin_dry_run "repin.sh --dry-run of a tree with no pin file: its first pins, a config pin per arch" \
		"$TREE_VERSION" "$TREE_SHA256" "${#KNOWN_ARCHES[@]}" "$TMP/repo-new/scripts/repin.sh" --tree mainline
	rm -rf "$TMP/repo-new"

	mkdir -p "$bad"
	# NAME<TAB>LINE: the pin file of the default tree, its version line
	# dropped for no-version, LINE added.
	for t in "unknown-key	colour red" "bad-sha	source-sha256 1234" "no-version	" \
		 "bad-config	config-sha256 amd64"; do
		IFS=$'\t' read -r name body <<<"$t"
		grep -v '^version ' "$REPO_DIR/scripts/pins/$DEFAULT_TREE" >"$bad/$name"
		[[ "$name" == no-version ]] || grep '^version ' "$REPO_DIR/scripts/pins/$DEFAULT_TREE" >>"$bad/$name"
		[[ -z "$body" ]] || printf '%s\n' "$body" >>"$bad/$name"
	done
	for t in "unknown-key	unknown key 'colour'" "bad-sha	not a sha256" \
		 "no-version	lacks one of version" "bad-config	expected 'config-sha256 DEBARCH SHA256'"; do
		IFS=$'\t' read -r name body <<<"$t"
		expect_error "a pin file with $name stops tree_vars" "$(ere "$body")" \
			bash -c 'set -euo pipefail; source "$1/scripts/lib/all.sh"; PROG=tree_pins
				 TREE=6.12.y; tree_pins "$2"' _ "$REPO_DIR" "$bad/$name"
	done
}

# run-qemu.sh as a user who cannot install, on a PATH without QEMU.
test_missing_qemu() {
	local bin="$TMP/bin" t path user_cmd=()

	mkdir -p "$bin"
	for t in bash env git make gcc bc flex bison perl python3 timeout xz apt-get ccache \
		 basename dirname nproc getopt sed grep cat mkdir date dpkg-deb flock cpio; do
		path="/usr/bin/$t"
		[[ -x "$path" ]] || path=$(command -v "$t" 2>/dev/null) || continue
		ln -s "$path" "$bin/$t"
	done
	if [[ $EUID -eq 0 ]] && command -v setpriv >/dev/null 2>&1; then
		chmod 755 "$TMP"
		user_cmd=(setpriv --reuid=nobody --regid=nogroup --clear-groups
			  env HOME="$TMP" FORKFIX_CACHE="$TMP/cache" PATH="$bin")
	else
		user_cmd=(env FORKFIX_CACHE="$TMP/cache" PATH="$bin")
	fi
	# A copy the unprivileged user can read, wherever this checkout is.
	mkdir -p "$TMP/repo-noqemu"
	cp -a "$REPO_DIR/run-qemu.sh" "$REPO_DIR/Kconfig.fragment" "$REPO_DIR/scripts" \
		"$REPO_DIR/patches" "$REPO_DIR/kunit" "$TMP/repo-noqemu/"
	chmod -R a+rX "$TMP/repo-noqemu"
	expect_error "run-qemu.sh without QEMU, not root: names the apt-get line" \
		"missing packages; run: apt-get install .*qemu-system-x86" \
		"${user_cmd[@]}" "$TMP/repo-noqemu/run-qemu.sh" --arch x86_64
	if [[ -e "$TMP/cache" ]]; then
		report "run-qemu.sh without QEMU leaves no cache behind" 1
	else
		report "run-qemu.sh without QEMU leaves no cache behind" 0
	fi
}

# A copy of the repository whose patch 5 no longer applies.
test_bad_patch() {
	local copy="$TMP/repo" work before after

	tree_vars "$DEFAULT_TREE"
	work="$TREE_WORK/patched-qemu"

	mkdir -p "$copy"
	cp -a "$REPO_DIR/run-qemu.sh" "$REPO_DIR/Kconfig.fragment" "$REPO_DIR/scripts" \
		"$REPO_DIR/patches" "$copy/"
	# The first removed line of code gets text the tree does not have.
	sed -i '0,/^-\t/s/^-\t\(.*\)$/-\t\1 \/* not in the tree *\//' "$copy/patches/$TREE"/0005-*.patch
	# The work tree must exist, or "as it was" would hold of nothing.
	(prepare_tree patched qemu) >"$TMP/prepare.log" 2>&1 ||
		die "preparing $work failed (log: $TMP/prepare.log)"
	before=$(git -C "$work" rev-parse HEAD)
	expect_error "run-qemu.sh with a patch that does not apply" "does not apply|failed to apply|patch" \
		"$copy/run-qemu.sh" --arch x86_64 --results "$TMP/results-bad-patch"
	after=$(git -C "$work" rev-parse HEAD 2>/dev/null || echo "no work tree")
	if [[ "$before" == "$after" && ! -e "$TMP/results-bad-patch" ]]; then
		report "a patch that does not apply leaves the work tree as it was, no results" 0 "${after:0:12}"
	else
		report "a patch that does not apply leaves the work tree as it was, no results" 1 "$before -> $after"
	fi
}

# check-apply.sh must fail where the shipped files stop serving b4 or their
# readers: a copy of the repository whose patch 2 has its Subject: folded,
# as git format-patch writes it (Debian 12's b4 0.12 stops on it), and
# whose patch 3 lost linux-mm from its Cc:.  git am and quilt do not care;
# b4 am, b4 shazam, the recipients and the re-export must fail.
test_apply_detects() {
	local copy="$TMP/repo-apply" want got

	mkdir -p "$copy"
	cp -a "$REPO_DIR/scripts" "$REPO_DIR/patches" "$copy/"
	python3 - "$copy/patches/$DEFAULT_TREE"/0002-*.patch <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
m = re.search(r"^Subject: (.{60}\S*) (.*)$", s, re.M)
if not m:
    sys.exit("no long Subject: line to fold in " + p)
s = s[:m.start()] + "Subject: " + m.group(1) + "\n " + m.group(2) + s[m.end():]
open(p, "w").write(s)
PY
	# And patch 3 no longer goes to linux-mm.
	sed -i '0,/^ linux-mm@kvack\.org,\?$/{/^ linux-mm@kvack\.org,\?$/d}' "$copy/patches/$DEFAULT_TREE"/0003-*.patch
	"$copy/scripts/check-apply.sh" --tree "$DEFAULT_TREE" >"$TMP/apply.out" 2>&1 || true
	want=$'PASS git am\nFAIL b4 am\nFAIL b4 shazam:\nPASS quilt push\nPASS DEP-3 form\nFAIL every mail\nFAIL export-series.sh of'
	got=$(sed -n 's/^\(PASS\|FAIL\)  \([^ ]* [^ ]*\).*/\1 \2/p' "$TMP/apply.out")
	if [[ "$got" == "$want" ]]; then
		report "check-apply.sh on a folded Subject: and a lost Cc:: b4, recipients and re-export fail" 0
	else
		report "check-apply.sh on a folded Subject: and a lost Cc:: b4, recipients and re-export fail" 1 \
			"got: ${got//$'\n'/, }"
	fi
}

# dep3.py check: the shipped DEP-3 form passes, and each made-up fault in a
# copy of it is rejected, naming the fault.
test_dep3_judge() {
	local src="$REPO_DIR/patches/$DEFAULT_TREE/dep3" first based fault dir want rc bad=""
	local -a faults=(
		$'no-forwarded\tno Forwarded: field'
		$'to-left\tmail header To: left in'
		$'short-origin\tis not \'backport, <upstream commit URL>\''
		$'patch-subject\tkeeps its \\[PATCH prefix'
		$'missing-file\tnamed in the series file, not in')

	if ! python3 "$LIB/dep3.py" check "$src" >"$TMP/dep3.out" 2>&1; then
		report "dep3.py check passes the shipped DEP-3 form" 1 "$(head -n1 "$TMP/dep3.out")"
		return
	fi
	first=$(head -n1 "$src/series")
	based=$(grep -l '^Origin: ' "$src"/*.patch | head -n1)
	for fault in "${faults[@]}"; do
		dir="$TMP/dep3-${fault%%$'\t'*}"
		want="${fault#*$'\t'}"
		cp -r "$src" "$dir"
		case "${fault%%$'\t'*}" in
		no-forwarded) sed -i '/^Forwarded: /d' "$dir/$first" ;;
		to-left) sed -i '0,/^Date: /s//To: linux-mm@kvack.org\nDate: /' "$dir/$first" ;;
		short-origin) sed -i -E 's|^(Origin: backport, https://git.kernel.org/linus/[0-9a-f]{12})[0-9a-f]+$|\1|' \
				"$dir/${based##*/}" ;;
		patch-subject) sed -i '0,/^Subject: /s//Subject: [PATCH 1\/8] /' "$dir/$first" ;;
		missing-file) rm "$dir/$first" ;;
		esac
		rc=0
		python3 "$LIB/dep3.py" check "$dir" >"$TMP/dep3.out" 2>&1 || rc=$?
		if [[ $rc -eq 0 ]] || ! grep -q -E -e "$want" "$TMP/dep3.out"; then
			bad+=" ${fault%%$'\t'*} (exit $rc: $(head -n1 "$TMP/dep3.out"))"
		fi
	done
	if [[ -z "$bad" ]]; then
		report "dep3.py check: the shipped form passes; no Forwarded:, a To:, a short Origin:, a [PATCH] subject, a missing patch fail" 0
	else
		report "dep3.py check: the shipped form passes; no Forwarded:, a To:, a short Origin:, a [PATCH] subject, a missing patch fail" 1 \
			"not rejected:$bad"
	fi
}

# check-robot.sh's judge (robot_warnings.py) on a made-up make log: only
# the touched files' diagnostics are listed, sparse's told from the
# compilers'; a warning the base has is not new, even on another line; a
# new one, or a second copy of an old one, fails the patch.
test_robot_judge() {
	local d="$TMP/robot" rc out bad=""

	mkdir -p "$d"
	cat >"$d/base.log" <<'LOG'
  CC      mm/memory.o
../mm/memory.c:120:5: warning: no previous prototype for 'f' [-Wmissing-prototypes]
../mm/memory.c:300:9: warning: context imbalance in 'g' - unexpected unlock
../mm/other.c:10:1: warning: unused variable 'y' [-Wunused-variable]
/somewhere/kernel/fork.c:77:2: note: declared here
LOG
	python3 "$LIB/robot_warnings.py" list "$d" "$d/base.log" mm/memory.c kernel/fork.c >"$d/base.txt"
	[[ "$(cut -f1,2 "$d/base.txt" | tr '	
' ' ;')" == "mm/memory.c gcc/clang;mm/memory.c sparse;" ]] ||
		bad+=" listing: $(tr '	
' ' ;' <"$d/base.txt")"
	# The same warnings on other lines: nothing new.
	sed 's/:120:5:/:131:5:/; s/:300:9:/:310:9:/' "$d/base.log" >"$d/moved.log"
	python3 "$LIB/robot_warnings.py" list "$d" "$d/moved.log" mm/memory.c kernel/fork.c >"$d/moved.txt"
	rc=0
	out=$(python3 "$LIB/robot_warnings.py" compare "$d/base.txt" "$d/moved.txt") || rc=$?
	[[ $rc -eq 0 && "$out" == *", 0 new"* ]] || bad+=" moved lines: exit $rc ($out)"
	# A new warning, and a second copy of an old one.
	{
		cat "$d/base.log"
		echo "../kernel/fork.c:900:3: warning: unused variable 'z' [-Wunused-variable]"
		echo "../mm/memory.c:140:5: warning: no previous prototype for 'f' [-Wmissing-prototypes]"
	} >"$d/new.log"
	python3 "$LIB/robot_warnings.py" list "$d" "$d/new.log" mm/memory.c kernel/fork.c >"$d/new.txt"
	rc=0
	out=$(python3 "$LIB/robot_warnings.py" compare "$d/base.txt" "$d/new.txt") || rc=$?
	[[ $rc -eq 1 && "$out" == *", 2 new"* && "$out" == *"kernel/fork.c  gcc/clang  warning: unused variable 'z'"* ]] ||
		bad+=" new warnings: exit $rc ($out)"
	# The kernel's refusal of the checker (C=1 turned off) is seen; a
	# log without it, or with a checker that ran, is not a refusal; an
	# unreadable log stops the script.
	printf '%s\n' "$(cat "$d/base.log")" \
		"../Makefile:1311: C=1 specified, but sparse is not available or not up to date" >"$d/refused.log"
	rc=0
	(source "$REPO_DIR/scripts/check-robot.sh"; checker_refused "$d/refused.log") || rc=$?
	[[ $rc -eq 0 ]] || bad+=" refused checker not seen (exit $rc)"
	rc=0
	(source "$REPO_DIR/scripts/check-robot.sh"; checker_refused "$d/base.log") || rc=$?
	[[ $rc -eq 1 ]] || bad+=" a log without the refusal read as one (exit $rc)"
	rc=0
	out=$( (source "$REPO_DIR/scripts/check-robot.sh"; checker_refused "$d/missing.log"; echo answered) 2>&1) || rc=$?
	[[ $rc -ne 0 && "$out" == *"error: cannot read"* && "$out" != *answered* ]] ||
		bad+=" an unreadable log read as an answer (exit $rc: $out)"
	if [[ -z "$bad" ]]; then
		report "check-robot.sh judge: touched files only, moved warnings old, new ones, second copies and a refused sparse fail" 0
	else
		report "check-robot.sh judge: touched files only, moved warnings old, new ones, second copies and a refused sparse fail" 1 "$bad"
	fi
}

# The trailer check of check-series.sh (lib/check.sh) must fail on a
# message whose Fixes: is cut off from the sign-off by a blank line, and
# on one whose last paragraph is not all trailers.
test_trailers_detects() {
	local good p bad1="$TMP/cut-fixes.patch" bad2="$TMP/text-in-trailers.patch"

	# A shipped patch with a Fixes: tag, in any series of any tree.
	good=""
	while IFS= read -r p; do
		if grep -q '^Fixes: ' "$p"; then
			good="$p"
			break
		fi
	done < <(find "$REPO_DIR/patches" -name '0*.patch' ! -name '*cover-letter*' ! -path '*/dep3/*' | sort)
	if [[ -z "$good" ]]; then
		report "trailer check: a shipped patch with a Fixes: tag to break" 1 "none found under patches/"
		return
	fi
	sed 's/^Signed-off-by: /\nSigned-off-by: /' "$good" >"$bad1"
	sed '0,/^Signed-off-by: /s//Not a trailer\nSigned-off-by: /' "$good" >"$bad2"
	if trailers "$good" >/dev/null && ! trailers "$bad1" >/dev/null && ! trailers "$bad2" >/dev/null; then
		report "trailer check: ${good##*/} parses, a cut-off Fixes: and text among the trailers fail" 0
	else
		report "trailer check: ${good##*/} parses, a cut-off Fixes: and text among the trailers fail" 1
	fi
}

# A line of each kind of failure message the splat scan must catch, in
# the form the kernel prints it (test_splat_re, test_qemu_judge).
SPLAT_SAMPLES=(
	"[   41.311112] mm/pgtable-generic.c:53: bad pmd ffff888004a63000(0000000104a62067)"
	"[   41.311112] mm/pgtable-generic.c:45: bad pud 00000000412a3003."
	"[   41.311112] mm/pgtable-generic.c:37: bad p4d ffff888004a63000(0000000104a62067)"
	"[   41.311112] mm/pgtable-generic.c:29: bad pgd 00000000412a3003."
	"[   41.311112] swap_info_get: Bad swap file entry 40000000000001"
	"[   41.311112] swap_info_get: Bad swap offset entry 00000abc"
	"[   41.311112] BUG kmalloc-64 (Not tainted): Object already free"
	"[   41.311112] BUG vm_area_struct (Tainted: G    B              ): Poison overwritten"
	"[   41.311112] [Redzone overwritten] 0xffff888004a1b040-0xffff888004a1b043 @offset=64. First byte 0x0 instead of 0xcc"
	"[   41.311112] BUG maple_node (Not tainted): Padding overwritten. 0xffff888004a1b040-0xffff888004a1b07f @offset=3968"
	"[   41.311112] maple_node: Freepointer corrupt"
	"[   41.311112] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:"
	"[   41.311112] rcu: INFO: rcu_preempt self-detected stall on CPU"
	"[   41.311112] INFO: rcu_tasks detected stalls on tasks:"
	"[  245.001234] INFO: task forkfix-init:1 blocked for more than 122 seconds."
	"[   41.311112] ** 17 printk messages dropped **"
)

# The splat scan: every failure message a tree's kernel can print, in the
# format of that tree's source, is a splat; the lines of a clean run are
# not.  6.12's "Unused swap ... entry" counts on 6.12.y only.
test_splat_re() {
	local line tree miss=() hit=() want
	local -a splats=("${SPLAT_SAMPLES[@]}")
	local -a clean=(
		"[    0.000000] Linux version 6.12.118 (forkfix@forkfix.invalid) #1 SMP PREEMPT_DYNAMIC"
		"[    2.104512] Run /init as init process"
		"KTAP version 1"
		"    ok 3 no VMA copied"
		"# fork_dup_mmap: pass:17 fail:0 skip:1 total:18"
		"forkfix: sweep points=843 failed=356 absorbed=487 complete=1"
		"forkfix: kmemleak objects=0"
		"[    0.412000] debug_vm_pgtable: [debug_vm_pgtable         ]: Validating architecture page table helpers"
		"[    3.000000] Adding 16380k swap on /dev/ram0.  Priority:-2 extents:1 across:16380k"
	)

	for tree in "${KNOWN_TREES[@]}"; do
		tree_vars "$tree"
		miss=()
		hit=()
		for line in "${splats[@]}"; do
			grep -q -E -e "$SPLAT_RE" <<<"$line" || miss+=("$line")
		done
		for line in "${clean[@]}"; do
			grep -q -E -e "$SPLAT_RE" <<<"$line" && hit+=("$line")
		done
		report "$tree splat scan: ${#splats[@]} made-up failure lines caught, ${#clean[@]} clean lines not" \
			"$([[ ${#miss[@]} -eq 0 && ${#hit[@]} -eq 0 ]] && echo 0 || echo 1)" \
			"${miss[0]:+missed: ${miss[0]}}${hit[0]:+ caught: ${hit[0]}}"
		line="[   41.311112] _swap_info_get: Unused swap offset entry 00000abc"
		want=1
		[[ "$tree" == 6.12.y ]] && want=0
		if grep -q -E -e "$SPLAT_RE" <<<"$line"; then
			report "$tree splat scan: 6.12's 'Unused swap offset entry' $([[ $want == 0 ]] && echo is || echo "is not") its splat" "$want"
		else
			report "$tree splat scan: 6.12's 'Unused swap offset entry' $([[ $want == 0 ]] && echo is || echo "is not") its splat" $((1 - want))
		fi
	done
}

# class-race.sh's reading of a console (parse): the site of the race's
# splat is the first kernel RIP from the first splat line after race-begin
# on, not one printed before it; a console without a splat has none.
test_race_parse() {
	local d="$TMP/race" got

	mkdir -p "$d"
	cat >"$d/console.log" <<'EOT'
[    5.000000] forkfix: race-begin seconds=600
[    6.000000] sysrq: Show Regs
[    6.000001] RIP: 0010:default_idle+0x9/0x20
[    7.000000] BUG: KASAN: slab-use-after-free in unuse_pte_range+0x1c4/0x640
[    7.000001] RIP: 0010:unuse_pte_range+0x1c4/0x640
[    8.000000] forkfix: race-end t=3 forks=10 failed=5 swapoffs=2
EOT
	got=$(race_parse "$d" '%s|%s|%s' R_SITE R_SPLAT R_END) || got="parse failed"
	report "class-race.sh: the splat's site is the RIP after the first splat line" \
		"$([[ "$got" == "unuse_pte_range|7.000000|1" ]] && echo 0 || echo 1)" "got: $got"
	sed -i '/KASAN\|unuse_pte_range/d' "$d/console.log"
	got=$(race_parse "$d" '%s|%s|%s' R_SITE R_SPLATS R_END) || got="parse failed"
	report "class-race.sh: a console without a splat has no site" \
		"$([[ "$got" == "-|0|1" ]] && echo 0 || echo 1)" "got: $got"
}

# race_parse DIR FORMAT VAR...: class-race.sh's parse of DIR/console.log,
# in a subshell that sources it; prints the named R_* variables in FORMAT.
race_parse() {
	local dir="$1" format="$2" name
	local -a values=()

	shift 2
	(
		# shellcheck source=scripts/class-race.sh
		source "$REPO_DIR/scripts/class-race.sh"
		tree_vars 6.12.y
		parse "$dir"
		for name in "$@"; do
			values+=("${!name}")
		done
		# shellcheck disable=SC2059
		printf "$format" "${values[@]}"
	)
}

# check-series.sh's list of objects to build per patch: a C file that
# another touched C file of its directory includes is built with that one,
# any other touched C file is an object of its own.
test_series_objects() {
	local d="$TMP/objs" got

	mkdir -p "$d/kernel" "$d/mm"
	git -C "$d" init -q
	printf 'int a;\n' >"$d/kernel/fork.c"
	printf 'int b;\n' >"$d/mm/mmap.c"
	git -C "$d" add -A
	git -C "$d" -c user.name=t -c user.email=t@t commit -q -m base
	git -C "$d" tag base
	mkdir -p "$d/kernel/tests"
	printf 'int a;\n#include "tests/fork_dup_mmap_kunit.c"\n' >"$d/kernel/fork.c"
	printf 'int t;\n' >"$d/kernel/tests/fork_dup_mmap_kunit.c"
	printf 'int b2;\n' >"$d/mm/mmap.c"
	printf 'int c;\n' >"$d/mm/tests.c"
	git -C "$d" add -A
	git -C "$d" -c user.name=t -c user.email=t@t commit -q -m series
	got=$(
		source "$REPO_DIR/scripts/check-series.sh"
		TREE_DIR="$d" BASE_REF=base COMMITS=("$(git -C "$d" rev-parse HEAD)") TREE=test
		series_objects
		printf '%s\n' "${OBJS[@]}" | sort | tr '\n' ' '
	) || got="series_objects failed"
	report "check-series.sh objects: a C file included from below is built with its includer" \
		"$([[ "$got" == "kernel/fork.o mm/mmap.o mm/tests.o " ]] && echo 0 || echo 1)" "got: $got"
}

# judge_verdict NAME WANT RC ERE: the line of a judge test: it passes when
# the judge's status RC is the WANTed one (0 passes, 1 fails); the first
# line of $TMP/out matching ERE is its detail.
judge_verdict() {
	local name="$1" want="$2" rc="$3" ere="$4" detail rc_grep=0

	detail=$(grep -m1 -E -e "$ere" "$TMP/out") || rc_grep=$?
	[[ $rc_grep -le 1 ]] || die "cannot read the judge's output $TMP/out"
	report "$name: $([[ $want == 0 ]] && echo passes || echo fails)" \
		"$([[ $rc == "$want" ]] && echo 0 || echo 1)" "$detail"
}

# run-qemu.sh's judge (check_results) on the console of a real passing
# run (x86_64, --no-kinds, kept in scripts/tests/), and on copies of it
# with one thing broken: a splat that the old scan missed, init's own
# count of failed checks, no "done" line, a FAIL line of init, a case lost
# from the debugfs rerun, a map that failed beside it, no failed copy of the
# parent's LDT; and with --five-level, no paging line or 4 levels.
test_qemu_judge() {
	local console="$REPO_DIR/scripts/tests/console-6.12.y-x86_64.log" d="$TMP/qjudge" c name edit want five rc line
	local -a cases

	if [[ ! -f "$console" ]]; then
		report "run-qemu.sh judge: the real console is in the repository" 1 "$console is missing"
		return
	fi
	tree_vars 6.12.y
	base_fetch >/dev/null 2>&1
	# name|sed script (empty: unchanged)|expected status (0 pass)
	cases=('the real console of a passing run||0'
	       'with init counting 3 failed checks|s/forkfix: done failures=0/forkfix: done failures=3/|1'
	       'without the done line|/forkfix: done/d|1'
	       'with a FAIL line of init|/forkfix: done/i forkfix: FAIL walker proc-readers: short read|1'
	       'with a case lost from the debugfs run|/forkfix: ktap-begin/,/forkfix: ktap-end/{/^ *ok 3 302 VMAs/d}|1'
	       'with a boot case skipped that may not|/forkfix: init started/,$!{s/ok 5 after both anon neighbours/& # SKIP made up/}|1'
	       'with the sweep skipped for another reason|/forkfix: init started/,$!{s/# SKIP no injected failure.*/# SKIP made up/}|1'
	       'without the charge left in the sweep memcg|s/ memcg-left=[0-9]*//|1'
	       'with a walker that counted an error|s/\(walker name=proc-readers .*\) errors=0/\1 errors=1/|1'
	       'with a walker missing|/walker name=compaction /d|1'
	       'without the mapper line|/forkfix: mapper maps=/d|1'
	       'with maps of the mapper failed|s/\(forkfix: mapper maps=[0-9]*\) failed=0/\1 failed=2/|1'
	       'with the mapper idle|s/forkfix: mapper maps=[0-9]*/forkfix: mapper maps=0/|1'
	       'with no LDT copy failed|s/ arch-dup-failed=[0-9]*/ arch-dup-failed=0/|1'
	       'without the count of LDT copies failed|s/ arch-dup-failed=[0-9]*//|1')
	# Each message the splat scan must catch, before the done line (the
	# samples hold no '|').
	for line in "${SPLAT_SAMPLES[@]}"; do
		cases+=("with '${line#*] }'|/forkfix: done/i $line|1")
	done
	# --five-level (a fourth field of 1): the guest must report 5 levels.
	cases+=('with --five-level, no paging line||1|1'
		'with --five-level, 4 levels|/forkfix: init started/a forkfix: paging levels=4 (hint 0x10000000000000, mapped at 0x7f0000000000)|1|1'
		'with --five-level, 5 levels|/forkfix: init started/a forkfix: paging levels=5 (hint 0x10000000000000, mapped at 0x10000000000000)|0|1')
	for c in "${cases[@]}"; do
		IFS='|' read -r name edit want five <<<"$c"
		rm -rf "$d"
		mkdir -p "$d"
		# An empty script copies the console unchanged, as in the other
		# judge tests.
		sed -e "$edit" "$console" >"$d/console.log"
		rc=0
		(
			# shellcheck source=run-qemu.sh
			source "$REPO_DIR/run-qemu.sh"
			tree_vars 6.12.y
			TREE_DIR="$BASE_DIR" VARIANT=patched ARCH=x86_64 SWEEP=1 KINDS=0 WALK_SECONDS=60
			FIVE_LEVEL="${five:-0}"
			check_results "$d/console.log" "$d"
		) >"$TMP/out" 2>&1 || rc=1
		judge_verdict "run-qemu.sh judge, $name" "$want" "$rc" '\[6\.12\.y patched x86_64\]'
	done
	# The judges' readers of a console: one that cannot be read is an
	# error, not a console without the line.
	rm -rf "$d"
	mkdir -p "$d/unreadable"
	printf 'forkfix: a\nforkfix: b\n' >"$d/console"
	for c in 'last_match|forkfix: [a-z]|forkfix: b' 'count_matches|forkfix: |2' \
		 'last_match|none|' 'count_matches|none|0'; do
		IFS='|' read -r name edit want <<<"$c"
		rc=0
		line=$("$name" "$edit" "$d/console" 2>&1) || rc=$?
		report "$name /$edit/ on a console: '$want'" \
			"$([[ $rc -eq 0 && "$line" == "$want" ]] && echo 0 || echo 1)" "got: '$line', exit $rc"
		rc=0
		line=$( ("$name" "$edit" "$d/unreadable") 2>&1) || rc=$?
		report "$name /$edit/ on a console it cannot read: an error" \
			"$([[ $rc -ne 0 ]] && echo 0 || echo 1)" "${line##*$'\n'}"
	done
}

# run-kunit.sh's judge on the consoles of two real kunit.py runs on
# x86_64 (scripts/tests/): the series, every case passing, and the
# negative control, every teardown case failing; and on copies with one
# thing broken.  The JSON is made from each console by the kernel's own
# KTAP parser, as kunit.py makes it.
test_kunit_judge() {
	local d="$TMP/kjudge" c name variant file edit want rc counts=() splats
	local -a cases

	tree_vars 6.12.y
	base_fetch >/dev/null 2>&1
	# name|variant|console|sed script (empty: unchanged)|expected status
	cases=('the series, as it ran|patched|kunit-6.12.y-x86_64.log||0'
	       'the series with a bad pmd line|patched|kunit-6.12.y-x86_64.log|/ok 3 first: only the stop VMA copied/i mm/pgtable-generic.c:53: bad pmd 00000000a1b2c3d4(0000000104a62067)|1'
	       'the series with a lockdep report|patched|kunit-6.12.y-x86_64.log|/ok 3 first: only the stop VMA copied/i WARNING: possible circular locking dependency detected|1'
	       'the series with a case skipped that may not|patched|kunit-6.12.y-x86_64.log|s/ok 5 after both anon neighbours/& # SKIP made up/|1'
	       'the series with the sweep skipped for another reason|patched|kunit-6.12.y-x86_64.log|s/# SKIP no injected failure.*/# SKIP made up/|1'
	       'the series with a failed case|patched|kunit-6.12.y-x86_64.log|s/ ok 6 after shmem shared/ not ok 6 after shmem shared/|1'
	       'the negative control, as it ran|base|kunit-base-6.12.y-x86_64.log||0'
	       'the negative control with a teardown case passing|base|kunit-base-6.12.y-x86_64.log|s/not ok 5 after both anon neighbours/ok 5 after both anon neighbours/|1'
	       'the negative control failing for another reason|base|kunit-base-6.12.y-x86_64.log|s/entries left in the tree/made-up reason/|1'
	       'a broken variant, as it ran|broken:parent-unlinked|kunit-broken-6.12.y-x86_64.log||0'
	       'a broken variant with its message gone|broken:parent-unlinked|kunit-broken-6.12.y-x86_64.log|s/is not in its file.s i_mmap tree/made-up reason/|1'
	       'a broken variant caught, then a hang (a fork of the unlinked parent)|broken:parent-unlinked|kunit-broken-hang-6.12.y-x86_64.log||1')
	for c in "${cases[@]}"; do
		IFS='|' read -r name variant file edit want <<<"$c"
		rm -rf "$d"
		mkdir -p "$d"
		sed -e "$edit" "$REPO_DIR/scripts/tests/$file" >"$d/test.log"
		python3 "$BASE_DIR/tools/testing/kunit/kunit.py" parse --json="$d/results.json" \
			<"$d/test.log" >/dev/null 2>&1 || true
		rc=0
		(
			# shellcheck source=scripts/run-kunit.sh
			source "$REPO_DIR/scripts/run-kunit.sh"
			tree_vars 6.12.y
			read -r -a counts < <(python3 "$LIB/kunit_json.py" counts "$d/results.json")
			splats=$(scan_splats "$d/test.log" "$d/splats.txt")
			PASSED=0 FAILED=0
			judge "$variant" x86_64 "$d/results.json" "$d/test.log" "${counts[*]}" "$splats"
			[[ $FAILED -eq 0 ]]
		) >"$TMP/out" 2>&1 || rc=1
		judge_verdict "run-kunit.sh judge, $name" "$want" "$rc" '^(PASS|FAIL) '
	done
}

# test.sh's judge of the negative control (check_base_failures) on the
# console of a real qemu-base run (scripts/tests/), as it ran and with one
# teardown case passing, at boot or in the debugfs rerun.
test_base_judge() {
	local console="$REPO_DIR/scripts/tests/console-base-6.12.y-x86_64.log" d="$TMP/bjudge" c name edit want rc
	local -a cases

	tree_vars 6.12.y
	base_fetch >/dev/null 2>&1
	# name|sed script (empty: unchanged)|expected status (0 pass)
	cases=('as it ran||0'
	       'with a teardown case passing at boot|/forkfix: init started/,$!{s/not ok 4 in one page table/ok 4 in one page table/}|1'
	       'with a teardown case passing in the debugfs rerun|/forkfix: ktap-begin/,/forkfix: ktap-end/{s/not ok 4 in one page table/ok 4 in one page table/}|1'
	       'with the rerun failing for another reason|/forkfix: ktap-begin/,/forkfix: ktap-end/{s/entries left in the tree/made-up reason/}|1')
	for c in "${cases[@]}"; do
		IFS='|' read -r name edit want <<<"$c"
		rm -rf "$d"
		mkdir -p "$d/x86_64"
		sed -e "$edit" "$console" >"$d/console.log"
		rc=0
		(
			# shellcheck source=run-qemu.sh
			source "$REPO_DIR/run-qemu.sh"
			tree_vars 6.12.y
			TREE_DIR="$BASE_DIR" VARIANT=base ARCH=x86_64 SWEEP=1 KINDS=0 WALK_SECONDS=60
			check_results "$d/console.log" "$d/x86_64" || true
			# shellcheck source=scripts/test.sh
			source "$REPO_DIR/scripts/test.sh"
			PASSED=0 FAILED=0
			check_base_failures "6.12.y qemu-base" "$d" x86_64
			[[ $PASSED -eq 2 && $FAILED -eq 0 ]]
		) >"$TMP/out" 2>&1 || rc=1
		judge_verdict "test.sh negative-control judge, $name" "$want" "$rc" '^FAIL '
	done
}

# selftests_results.py's kmemleak judge on made-up results: the series
# may leak only objects the base leaks too, compared by size and
# allocation site, not by count.
test_selftests_leaks() {
	local d="$TMP/stleaks" c name base series want out
	local a='"64 kmem_cache_alloc_noprof<vm_area_dup<dup_mmap<copy_process"'
	local b='"64 __kmalloc_noprof<anon_vma_fork<dup_mmap<copy_process"'
	local -a cases

	# name|base objects|series objects|expected status (0 pass)
	cases=("the same object on both|$a|$a|0"
	       "none on either|||0"
	       "another object with the series, as many as the base's|$a|$b|1"
	       "one more object with the series|$a|$a,$b|1")
	for c in "${cases[@]}"; do
		IFS='|' read -r name base series want <<<"$c"
		rm -rf "$d"
		mkdir -p "$d/base/x86_64" "$d/patched/x86_64"
		printf '{"runs": [], "splats": [], "done": true, "kmemleak": %d, "kmemleak_objects": [%s]}\n' \
			"$(awk -F, '{ print NF }' <<<"$base")" "$base" >"$d/base/x86_64/results.json"
		printf '{"runs": [], "splats": [], "done": true, "kmemleak": %d, "kmemleak_objects": [%s]}\n' \
			"$(awk -F, '{ print NF }' <<<"$series")" "$series" >"$d/patched/x86_64/results.json"
		out=$(python3 "$LIB/selftests_results.py" judge "$d" 6.12.y x86_64 base,patched "" 2>&1 |
			grep -m1 'kmemleak objects with the series' || true)
		report "selftests_results.py kmemleak judge, $name: $([[ $want == 0 ]] && echo passes || echo fails)" \
			"$([[ "$out" == "$([[ $want == 0 ]] && echo PASS || echo FAIL) "* ]] && echo 0 || echo 1)" "${out:-no kmemleak line}"
	done
}

# test.sh's judge of a broken variant of the guest's checks
# (check_broken_caught): the run must have failed on the check the
# variant targets, not on another one, and a missing console fails.
test_broken_judge() {
	local d="$TMP/brjudge" c name line want rc ere
	local -a cases

	tree_vars 6.12.y
	ere="${TREE_QEMU_BROKEN[0]#*$'\t'}"
	# name|the FAIL line of the console (empty: no console)|expected status
	cases=("caught by the memcg check|forkfix: FAIL fork-sweep: all kinds: the memcg of the sweep is still charged 1228800 bytes once removed (at most 131072)|0"
	       "failed on another check only|forkfix: FAIL walkers: no fork failed|1"
	       "no console||1")
	for c in "${cases[@]}"; do
		IFS='|' read -r name line want <<<"$c"
		rm -rf "$d"
		mkdir -p "$d/x86_64"
		[[ -z "$line" ]] || printf '[   12.000000] forkfix: sweep points=1\r\n%s\r\n' "$line" >"$d/x86_64/console.log"
		rc=0
		(
			# shellcheck source=scripts/test.sh
			source "$REPO_DIR/scripts/test.sh"
			tree_vars 6.12.y
			PASSED=0 FAILED=0
			check_broken_caught "6.12.y qemu-broken page-leak" "$d" x86_64 "$ere"
			[[ $PASSED -eq 1 && $FAILED -eq 0 ]]
		) >"$TMP/out" 2>&1 || rc=1
		judge_verdict "test.sh broken-variant judge, $name" "$want" "$rc" '^(PASS|FAIL) '
	done
}

# test.sh's step(): a negative control's step passes only when its command
# fails, a normal step only when it succeeds; and the PASS/FAIL lines and
# "N passed, N failed" of the command's log are added up.
test_step_inversion() {
	local c name expect what want out
	local -a cases

	# name|expected exit (pass/fail)|command|expected verdict
	cases=("a negative control whose command fails|fail|false|PASS"
	       "a negative control whose command succeeds|fail|true|FAIL"
	       "a step whose command fails|pass|false|FAIL"
	       "a step whose command succeeds|pass|true|PASS")
	for c in "${cases[@]}"; do
		IFS='|' read -r name expect what want <<<"$c"
		out=$(
			# shellcheck source=scripts/test.sh
			source "$REPO_DIR/scripts/test.sh"
			CACHE_DIR="$TMP/step-cache"
			mkdir -p "$CACHE_DIR/logs"
			PASSED=0 FAILED=0
			step "made-up" "$expect" "$what" 2>/dev/null
		)
		report "test.sh step(): $name: $want" "$([[ "$out" == "$want "* ]] && echo 0 || echo 1)" "${out:-no line}"
	done
	# The counts of a step's log add to the totals.
	out=$(
		# shellcheck source=scripts/test.sh
		source "$REPO_DIR/scripts/test.sh"
		CACHE_DIR="$TMP/step-cache"
		PASSED=0 FAILED=0
		step "counted" pass printf 'PASS  a\nFAIL  b\n3 passed, 1 failed\n' >/dev/null 2>&1
		echo "$PASSED $FAILED"
	)
	report "test.sh step(): a log's \"3 passed, 1 failed\" and the step's own line add up to 4 and 1" \
		"$([[ "$out" == "4 1" ]] && echo 0 || echo 1)" "got: $out"
}

# fake_stress_console DIR ENOMEM MISSED SPLAT: a console and plan of
# scripts/stress-ng.sh for one variant and arch in DIR: two groups of one
# stressor each, both phases, ENOMEM copy_process() errors in the inject
# runs, MISSED kretprobe returns, a splat line when SPLAT is 1.
fake_stress_console() {
	local dir="$1" enomem="$2" missed="$3" splat="$4" mode group when calls err inj f ev

	mkdir -p "$dir"
	printf '%s\n' 'seconds 60' 'probability 1' 'group fork' 'arg --fork' 'arg 1' \
		'group mm' 'arg --vm' 'arg 1' >"$dir/plan"
	{
		echo "forkfix: stress: cpus 2"
		for mode in clean inject; do
			for group in fork mm; do
				for when in before after; do
					calls=10 err=0 inj=1000000000
					if [[ $when == after ]]; then
						calls=20
						[[ $mode == clean ]] || { err=$enomem; inj=999999990; }
					fi
					for f in failslab fail_page_alloc; do
						echo "forkfix-stress-count: $mode-$group $when ${f}_times $inj"
					done
					for ev in copy_process dup_mmap; do
						echo "forkfix-stress-hist: $mode-$group $when $ev # trigger info: hist:keys=common_cpu:size=128 [active]"
						echo "forkfix-stress-hist: $mode-$group $when $ev { common_cpu: 0 } hitcount: $calls"
						echo "forkfix-stress-hist: $mode-$group $when $ev     Dropped: 0"
						echo "forkfix-stress-hist: $mode-$group $when $ev # trigger info: hist:keys=ret:size=256 [active]"
						[[ $err -eq 0 ]] ||
							echo "forkfix-stress-hist: $mode-$group $when $ev { ret: 18446744073709551604 } hitcount: $err"
						echo "forkfix-stress-hist: $mode-$group $when $ev     Dropped: 0"
						echo "forkfix-stress-profile: $mode-$group $when   $ev   $calls   $([[ $when == after ]] && echo "$missed" || echo 0)"
					done
					[[ $when == after ]] || echo "forkfix-stress-phase: $mode-$group start"
				done
				[[ $splat -eq 0 || $mode == clean ]] || echo "[   99.000000] BUG: KASAN: use-after-free in free_pgtables+0x1/0x2"
				echo "forkfix-stress-yaml: $mode-$group metrics:"
				echo "forkfix-stress-yaml: $mode-$group     - stressor: $([[ $group == fork ]] && echo fork || echo vm)"
				echo "forkfix-stress-yaml: $mode-$group       bogo-ops: 5"
				echo "forkfix-stress-phase: $mode-$group end status=exit:0 seconds=60.1"
			done
		done
		echo "forkfix: kmemleak objects=0"
		echo "forkfix: forkfix-stress-done"
	} >"$dir/console.log"
	python3 "$LIB/stress_ng.py" parse "$dir/console.log" "$SPLAT_RE" >"$dir/results.json"
}

# The judge of scripts/stress-ng.sh on made-up consoles: passes on a good
# one; fails without ENOMEM in the inject runs, with a missed kretprobe
# return, with a splat on the series.
test_stress_judge() {
	local d="$TMP/stress" t name enomem missed splat want

	for t in "good 5 0 0 0" "no-enomem 0 0 0 1" "missed 5 3 0 1" "splat 5 0 1 1"; do
		read -r name enomem missed splat want <<<"$t"
		rm -rf "$d"
		fake_stress_console "$d/patched/x86_64" "$enomem" "$missed" "$splat"
		if python3 "$LIB/stress_ng.py" judge "$d" 6.12.y x86_64 patched >"$TMP/out" 2>&1; then
			report "stress-ng judge, $name console: $([[ $want == 0 ]] && echo passes || echo fails)" "$want"
		else
			report "stress-ng judge, $name console: $([[ $want == 0 ]] && echo passes || echo fails)" \
				$((1 - want)) "$(grep -m1 FAIL "$TMP/out" || true)"
		fi
	done
}

# A guest that cannot finish in 5 seconds.
# --post: copies of the shipped series, From: and Signed-off-by: the
# poster's git identity, the rest as shipped; refused without an identity.
test_post_resigns() {
	local tree dir="$TMP/posted" gc="$TMP/poster.gitconfig" p rel bad=0 posted=()
	local poster="Forkfix Test Poster <test-poster@forkfix.invalid>"

	git config -f "$gc" user.name "Forkfix Test Poster"
	git config -f "$gc" user.email test-poster@forkfix.invalid
	for tree in "${KNOWN_TREES[@]}"; do
		rm -rf "$dir"
		bad=0
		if ! GIT_CONFIG_GLOBAL="$gc" "$REPO_DIR/scripts/export-series.sh" --tree "$tree" \
			--post "$dir" >"$TMP/out" 2>&1; then
			report "export-series.sh --post: $tree re-signed by the poster" 1 "$(tail -n1 "$TMP/out")"
			continue
		fi
		# Every series of the tree (a prerequisite one in its own
		# directory), not the DEP-3 form, which is not posted.
		mapfile -t posted < <(find "$REPO_DIR/patches/$tree" -name '*.patch' ! -path '*/dep3/*' | sort)
		[[ ${#posted[@]} -gt 0 ]] || bad=1
		for p in "${posted[@]}"; do
			rel="${p#"$REPO_DIR/patches/$tree/"}"
			# Only the From: header and the sign-off differ.
			[[ -f "$dir/$rel" ]] || { bad=1; continue; }
			[[ "$(diff "$p" "$dir/$rel" | grep -c '^[<>]')" -eq "$([[ $p == *cover-letter* ]] && echo 2 || echo 4)" ]] || bad=1
			grep -q "^From: $poster\$" "$dir/$rel" || bad=1
			[[ $p == *cover-letter* ]] && continue
			sed '1,/^$/d; /^---$/,$d' "$dir/$rel" | git interpret-trailers --parse |
				tail -n1 | grep -qx "Signed-off-by: $poster" || bad=1
		done
		report "export-series.sh --post: $tree re-signed by the poster, nothing else changed" "$bad"
	done
	expect_error "export-series.sh --post without a git identity" "set git config user.name" \
		env GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 \
		"$REPO_DIR/scripts/export-series.sh" --post "$TMP/posted2"
}

test_hang() {
	local pidfile="$TMP/results-hang/x86_64/qemu.pid" left

	expect_error "run-qemu.sh --timeout 5: the guest hangs" "guest hung" \
		"$REPO_DIR/run-qemu.sh" --arch x86_64 --timeout 5 --results "$TMP/results-hang"
	sleep 1
	# QEMU removes its pid file when it exits; one left behind must not
	# name a running QEMU, and no QEMU may run with this results
	# directory in its command line.  The console shows QEMU did start.
	left=$(pgrep -f -- "-pidfile $pidfile" || true)
	if [[ ! -s "$TMP/results-hang/x86_64/console.log" ]]; then
		report "no QEMU left running after the time limit" 1 "QEMU never started: no console"
	elif qemu_alive "$pidfile" || [[ -n "$left" ]]; then
		report "no QEMU left running after the time limit" 1 "pid ${left:-$(<"$pidfile")} runs"
	else
		report "no QEMU left running after the time limit" 0
	fi
}

# plan_steps CELL: the step names of a plan cell of a Markdown table
# ("apply; series x86_64 (...); kunit x86_64"), one a line.
plan_steps() {
	tr ';' '\n' <<<"$1" | awk '{print $1}' | sed '/^$/d'
}

# plan_row FILE TREE: 0 when FILE's plan table names, for TREE, the steps
# of the tree table's TREE_CI and TREE_FULL in their order; else 1, with
# what differs in PLAN_DETAIL.
plan_row() {
	local file="$1" row ci full want_ci want_full

	tree_vars "$2"
	want_ci=$(printf '%s\n' "${TREE_CI[@]%%:*}")
	want_full=$(printf '%s\n' "${TREE_FULL[@]%%:*}")
	row=$(grep -F -m1 "| $2 | " "$file" || true)
	IFS='|' read -r _ _ ci full _ <<<"$row"
	PLAN_DETAIL=""
	if [[ -z "$row" ]]; then
		PLAN_DETAIL="no row for $2"
	elif [[ "$(plan_steps "$ci")" != "$want_ci" ]]; then
		PLAN_DETAIL="default tier: $(plan_steps "$ci" | paste -sd,), the table: $(paste -sd, <<<"$want_ci")"
	elif [[ "$(plan_steps "$full")" != "$want_full" ]]; then
		PLAN_DETAIL="--full: $(plan_steps "$full" | paste -sd,), the table: $(paste -sd, <<<"$want_full")"
	fi
	[[ -z "$PLAN_DETAIL" ]]
}

# The plan tables of README.md and docs/test-plan.md name, for each tree,
# the steps of the tree table's TREE_CI and TREE_FULL, in their order; a
# README without one step of --full fails.
test_plan_tables() {
	local doc tree rc

	for doc in README.md docs/test-plan.md; do
		for tree in "${KNOWN_TREES[@]}"; do
			rc=0
			plan_row "$REPO_DIR/$doc" "$tree" || rc=1
			report "$doc: the plan of $tree is the tree table's" "$rc" "$PLAN_DETAIL"
		done
	done
	sed 's/ qemu-5level;//' "$REPO_DIR/README.md" >"$TMP/README-no-5level.md"
	rc=0
	plan_row "$TMP/README-no-5level.md" 6.12.y || rc=1
	report "a plan table without qemu-5level: rejected" "$([[ $rc -eq 1 ]] && echo 0 || echo 1)" "$PLAN_DETAIL"
}

# The tests, in the order they run (each a test_NAME function); the slow
# ones last.
ALL_TESTS=(options shellcheck check_propagates check_judges missing_version private_apt
	   pin_gone repin missing_qemu apply_detects dep3_judge robot_judge trailers_detects post_resigns
	   stress_judge splat_re race_parse series_objects qemu_judge kunit_judge base_judge broken_judge selftests_leaks step_inversion
	   plan_tables)
SLOW_TESTS=(bad_patch hang)

main() {
	local quick=0 opts only="" t tests=()

	opts=$(getopt -o h -l help,quick,only: -n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--quick) quick=1; shift ;;
		--only) only="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	if [[ -n "$only" ]]; then
		for t in ${only//,/ }; do
			[[ " ${ALL_TESTS[*]} ${SLOW_TESTS[*]} " == *" $t "* ]] ||
				die "unknown test '$t' (known: ${ALL_TESTS[*]} ${SLOW_TESTS[*]})"
			tests+=("$t")
		done
	else
		tests=("${ALL_TESTS[@]}")
		[[ $quick -eq 1 ]] || tests+=("${SLOW_TESTS[@]}")
	fi

	TMP=$(mktemp -d)
	trap cleanup EXIT
	for t in "${tests[@]}"; do
		"test_$t"
	done
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	[[ $FAILED -eq 0 ]]
}

main "$@"
