#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Check a tree's series the way a maintainer would: it applies, checkpatch
# is clean, every patch builds for x86_64 and arm64 and keeps the userland
# VMA tests passing, kernel-doc is clean, the whole series builds for !MMU,
# and the tree's content checks hold.  One line per check, then
# "N passed, N failed".
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Apply patches/<tree>/ onto the tree's pinned base in the work tree
\$CACHE_DIR/work/<tree>/patched-check and check it:
  - git am of the whole series is clean;
  - scripts/checkpatch.pl --strict, run in the tree, reports nothing on
    every patch (UNKNOWN_COMMIT_ID aside: the base has no history);
  - every upstream commit the messages quote as <id> ("<subject>") is in
    scripts/upstream-ids.txt with that subject, and so is every full id of
    a stable backport's "commit <id> upstream." line;
  - git interpret-trailers --parse reads back each message's last paragraph
    whole, with a Signed-off-by:, and no trailer stands outside it;
  - after every patch: the kernel builds for each --arch (tinyconfig +
    scripts/configs/check.config + the tree's suite symbol, one build
    directory per arch, reused, ccache) and tools/testing/vma builds and
    passes; with --per-patch objects, every patch builds only the objects
    of the C files the complete series touches (those that exist at that
    patch): a header change is then compiled only in those files, and no
    link error is seen (test.sh's default tier links the complete series
    in its kunit and qemu steps);
  - the complete series builds for a !MMU kernel (riscv nommu_virt_defconfig);
  - scripts/kernel-doc -none is silent on every file the series touches, and
    the functions of the tree table have kernel-doc;
  - the tree table's content checks (for 6.12.y: free_pgtables() takes
    tree_max; no XA_ZERO_ENTRY / xa_is_zero() left).
Every step of a check counts: a failing config step fails the build check.
Prints one line per check and ends with "N passed, N failed"; exits 1 if
anything failed.  Logs: \$CACHE_DIR/logs/check-<tree> ($CACHE_DIR/logs/check-<tree>).

Options:
      --tree TREE     tree to check (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -a, --arch LIST     architectures to build after every patch, comma
                      separated, or all (default: all = ${KNOWN_ARCHES[*]})
      --no-nommu      skip the !MMU build
      --last-only     build and test only the complete series, not every patch
      --per-patch MODE
                      what every patch builds: kernel (the whole kernel)
                      or objects (see above) (default: kernel)
  -j, --jobs N        make -j (default: $(nproc))
      --no-install    never run apt-get, only say what is missing
  -h, --help          show this help
EOT
}

# vma_tests: build the userland VMA tests from scratch and run them.
vma_tests() {
	make -s -C "$TREE_DIR/tools/testing/vma" clean >/dev/null
	make -s -C "$TREE_DIR/tools/testing/vma" -j"$JOBS"
	cd "$TREE_DIR/tools/testing/vma"
	./vma
}

# upstream_refs PATCH: every upstream id the commit message refers to must
# be in scripts/upstream-ids.txt with the subject it is quoted with.
upstream_refs() {
	python3 - "$REPO_DIR/scripts/upstream-ids.txt" "$@" <<'PY'
import re, sys

known = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line and not line.startswith('#'):
        cid, subject = line.split(' ', 1)
        known[cid] = subject
bad = n = 0
for patch in sys.argv[2:]:
    msg = open(patch).read().split('\n---\n', 1)[0]
    # A stable backport's "commit <full id> upstream." line.
    for cid in re.findall(r'^commit ([0-9a-f]{40}) upstream\.$', msg, re.M):
        n += 1
        if cid in known:
            print(f'ok {cid} upstream')
        else:
            print(f'{patch.rsplit("/", 1)[-1]}: commit {cid} upstream is not a known upstream commit')
            bad += 1
    msg = re.sub(r'\s*\n\s*', ' ', msg)
    for cid, subject in re.findall(r'\b([0-9a-f]{12,40}) \("(.+?)"\)', msg):
        n += 1
        full = [k for k in known if k.startswith(cid)]
        if not full:
            print(f'{patch.rsplit("/", 1)[-1]}: {cid} ("{subject}") is not a known upstream commit')
            bad += 1
        elif known[full[0]] != subject:
            print(f'{patch.rsplit("/", 1)[-1]}: {cid} is "{known[full[0]]}", quoted as "{subject}"')
            bad += 1
        else:
            print(f'ok {cid} ("{subject}")')
print(f'{n} references')
sys.exit(1 if bad else 0)
PY
}

kernel_doc_files() {
	local out

	out=$(cd "$TREE_DIR" && scripts/kernel-doc -none "$@" 2>&1)
	printf '%s\n' "$out"
	[[ -z "$out" ]]
}

# kernel_doc_function FILE FUNC: FUNC must have a kernel-doc comment.
kernel_doc_function() {
	local file="$1" func="$2" out

	out=$(cd "$TREE_DIR" && scripts/kernel-doc -rst -function "$func" "$file" 2>&1)
	printf '%s\n' "$out"
	grep -qE "^\.\. c:function::.*\b$func ?\(" <<<"$out"
	# kernel-doc's own warnings ("<file>:<line>: warning: ..."), not the
	# word in the documentation text.
	! grep -qE '^[^ ]+:[0-9]+: warning:' <<<"$out"
}

# build_commit C ARCH MODE: check out C and build it for ARCH: the whole
# kernel (MODE kernel) or the objects of OBJS (series_objects) whose
# source exists at C.
build_commit() {
	local c="$1" a="$2" mode="$3" i short objs=() o

	git -C "$TREE_DIR" checkout -q --detach "$c"
	i=$(git -C "$TREE_DIR" rev-list --count "$BASE_REF..$c")
	short=$(printf '%04d' "$i")
	LAST=0
	[[ "$c" == "${COMMITS[-1]}" ]] && LAST=1
	if [[ "$mode" == kernel ]]; then
		check "build $a after $short" "build-$a-$short" check_build "$a" "$short"
		return 0
	fi
	for o in "${OBJS[@]}"; do
		[[ -f "$TREE_DIR/${o%.o}.c" ]] && objs+=("$o")
	done
	# Nothing of it exists yet: configure and prepare at least.
	[[ ${#objs[@]} -gt 0 ]] || objs=(prepare)
	check "build $a after $short: ${objs[*]}" "build-$a-$short" check_build "$a" "$short" "${objs[@]}"
}

main() {
	local nommu=1 last_only=0 per_patch=kernel opts a c i short subj start=$SECONDS
	local files=() f entry what pkgs=()

	JOBS=$(nproc)
	ARCH_OPT=all
	opts=$(getopt -o ha:j: -l help,tree:,arch:,no-nommu,last-only,per-patch:,jobs:,no-install -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--no-nommu) nommu=0; shift ;;
		--last-only) last_only=1; shift ;;
		--per-patch) per_patch="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	[[ "$per_patch" == kernel || "$per_patch" == objects ]] ||
		die "--per-patch takes kernel or objects, not '$per_patch'"
	pkgs=(base build vma)
	[[ $nommu -eq 0 ]] || pkgs+=(arch:riscv-nommu)
	ensure_packages_for "${pkgs[@]}"
	LOG_DIR="$CACHE_DIR/logs/check-$TREE"
	mkdir -p "$LOG_DIR"

	LAST=0
	series_work_tree patched-check

	for i in "${!SERIES[@]}"; do
		check "checkpatch --strict ${SERIES[i]##*/}" "checkpatch-$((i + 1))" checkpatch_one "${SERIES[i]}"
	done
	check "trailers: git interpret-trailers --parse reads each message's last paragraph back" \
		trailers trailers "${SERIES[@]}"
	series_dirs
	check "upstream ids quoted in the commit messages are known, with their subjects" \
		upstream-ids upstream_refs "${SERIES[@]}" "${SERIES_DIRS[@]/%//0000-cover-letter.patch}"

	mapfile -t COMMITS < <(git -C "$TREE_DIR" rev-list --reverse "$BASE_REF..HEAD")
	[[ $last_only -eq 0 ]] || COMMITS=("${COMMITS[-1]}")
	[[ "$per_patch" == kernel ]] || series_objects
	for c in "${COMMITS[@]}"; do
		git -C "$TREE_DIR" checkout -q --detach "$c"
		short=$(printf '%04d' "$(git -C "$TREE_DIR" rev-list --count "$BASE_REF..$c")")
		subj=$(git -C "$TREE_DIR" log -1 --format=%s "$c")
		printf '%s: at patch %s: %s\n' "$PROG" "$short" "$subj" >&2
		for a in "${ARCHES[@]}"; do
			build_commit "$c" "$a" "$per_patch"
		done
		check "tools/testing/vma after $short" "vma-$short" vma_tests
	done
	LAST=1

	if [[ $nommu -eq 1 ]]; then
		check "build !MMU (riscv nommu_virt_defconfig) with the series" build-nommu \
			check_build riscv-nommu last
	fi

	mapfile -t files < <(git -C "$TREE_DIR" diff --name-only "$BASE_REF..HEAD" -- '*.c' '*.h' | grep -v '^tools/')
	check "kernel-doc -none on ${#files[@]} touched files" kernel-doc kernel_doc_files "${files[@]}"
	for f in "${TREE_KDOC[@]}"; do
		check "kernel-doc for ${f#*:}()" "kernel-doc-${f#*:}" kernel_doc_function "${f%%:*}" "${f#*:}"
	done
	for entry in "${TREE_PRESENT[@]}"; do
		IFS=$'\t' read -r f c what <<<"$entry"
		check "$what" "present-${f//\//_}" present "$f" "$c"
	done
	for entry in "${TREE_ABSENT[@]}"; do
		IFS=$'\t' read -r f c <<<"$entry"
		# shellcheck disable=SC2086 # FILES is a list
		check "no $c in $f" "absent-$c" absent "$c" $f
	done

	printf '%s: done in %s; work tree %s, logs %s\n' "$PROG" "$(elapsed "$start")" "$TREE_DIR" "$LOG_DIR" >&2
	totals
}

# Sourced (by test-scripts.sh), it only defines its functions.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || main "$@"
