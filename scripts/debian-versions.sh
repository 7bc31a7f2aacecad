#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# For every version of a tree's linux-source package that Debian's archive
# serves, say whether the tree's series applies to it.  Reads the live
# archive: not part of the test command.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

# Suites that may carry a 6.12 kernel, each reached through a private apt
# configuration in the cache (never the machine's): SUITE=MIRROR.
declare -A SUITE_MIRROR=(
	[trixie]=http://deb.debian.org/debian
	[trixie-updates]=http://deb.debian.org/debian
	[trixie-security]=http://deb.debian.org/debian-security
	[trixie-backports]=http://deb.debian.org/debian
	[bookworm-security]=http://deb.debian.org/debian-security
	[bookworm-backports]=http://deb.debian.org/debian
)
DEFAULT_SUITES="trixie,trixie-security,trixie-updates,bookworm-security,bookworm-backports"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

List every version of the tree's Debian source package (6.12.y:
linux-source-6.12) in the given suites of Debian's archive, each suite read
through a private apt configuration in \$CACHE_DIR/apt/<suite> (the
machine's apt is never used or changed), and for each version: download the
package (apt checks it against the signed index), take from its tarball the
files the series changes, and git am the series onto them.  Prints one line
per version: "applies" or "conflicts: patch N (SUBJECT) in FILE".  The
pinned version is marked.  It reads a live archive, so its answer changes
with the archive; it is not part of the test command.

Options:
      --tree TREE       tree (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
      --suites LIST     suites, comma separated, in this order (default:
                        $DEFAULT_SUITES;
                        known: ${!SUITE_MIRROR[*]})
      --markdown FILE   also write the table as Markdown, with today's date
      --keep-debs       keep every downloaded package in \$CACHE_DIR/debs
                        (default: only the pinned one is kept)
      --no-install      never run apt-get install, only say what is missing
      --pins            only report, from the index (no package download),
                        for every tree (or --tree) and every package it
                        pins (its linux-source, and linux-config per
                        architecture), whether the pinned version is still
                        served in the suite it comes from and the newest
                        version there; exits 0 whatever it finds, non-zero
                        only when an index cannot be read
  -h, --help            show this help
EOT
}

# pin_line TREE PKG WHERE PIN VERSION...: one line of the pin report.
pin_line() {
	local tree="$1" pkg="$2" where="$3" pin="$4" state="GONE (move it: scripts/repin.sh --tree $1 --version ${5:-?})"
	shift 4

	printf '%s\n' "$@" | grep -qxF -- "$pin" && state="served"
	[[ $# -gt 0 ]] || state="GONE (the index lists no $pkg)"
	printf '%-9s %-18s %-26s %-20s %-7s %s\n' "$tree" "$pkg" "$where" "$pin" \
		"${state%% *}" "${1:-none}"
	[[ "$state" == served ]] || printf '%-9s %s\n' "" "$state"
}

# pins_report TREE...: the pin report (--pins).
pins_report() {
	local t w debarch where vers=()

	printf '%-9s %-18s %-26s %-20s %-7s %s\n' tree package "suite (arch)" pin state "newest on offer"
	for t in "$@"; do
		tree_vars "$t"
		APT_READY=0
		base_apt_setup
		mapfile -t vers < <(index_versions "$TREE_PKG")
		where="${TREE_APT_SUITE:-machine apt}"
		pin_line "$t" "$TREE_PKG" "$where" "$TREE_VERSION" "${vers[@]}"
		for w in "${TREE_DEBCONFIG_SHA256[@]}"; do
			debarch="${w%%:*}"
			apt_private "$TREE_DEBCONFIG_SUITE" "$TREE_DEBCONFIG_MIRROR" "$debarch"
			mapfile -t vers < <(index_versions "$TREE_DEBCONFIG_PKG")
			pin_line "$t" "$TREE_DEBCONFIG_PKG" "$TREE_DEBCONFIG_SUITE ($debarch)" "$TREE_VERSION" "${vers[@]}"
		done
	done
}

# use_suite SUITE: point base.sh's private apt configuration at SUITE.
use_suite() {
	TREE_APT_SUITE="$1"
	TREE_APT_MIRROR="${SUITE_MIRROR[$1]}"
	APT_READY=0
	base_apt_setup
}

# fetch_deb SUITE VERSION: set DEB to the package, downloaded if needed.
fetch_deb() {
	local suite="$1" ver="$2"

	DEB="$CACHE_DIR/debs/${TREE_PKG}_${ver}_all.deb"
	[[ ! -f "$DEB" ]] || return 0
	use_suite "$suite"
	mkdir -p "$CACHE_DIR/debs"
	base_download "$ver" "$DEB"
	[[ $KEEP -eq 1 || "$ver" == "$TREE_VERSION" ]] || FETCHED+=("$DEB")
}

# try_version DEB: apply the series to the files it changes, taken from the
# tarball of DEB; set RESULT.
try_version() {
	local deb="$1" dir members=() f out n subj file

	dir=$(mktemp -d "$CACHE_DIR/tmp.versions.XXXXXX")
	TMPDIRS+=("$dir")
	for f in Makefile "${FILES[@]}"; do
		members+=("$TREE_PKG/$f")
	done
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$TREE_PKG.tar.xz" |
		tar -xJ -C "$dir" "${members[@]}" ||
		die "could not take ${#members[@]} files out of $deb"
	git_fixed -C "$dir/$TREE_PKG" init -q
	git_fixed -C "$dir/$TREE_PKG" add -f -A .
	git_fixed -C "$dir/$TREE_PKG" commit -q -m base
	if out=$(git_fixed -C "$dir/$TREE_PKG" am -q "${SERIES[@]}" 2>&1); then
		RESULT="applies (Linux $(kernel_version "$dir/$TREE_PKG"))"
	else
		n=$(sed -n 's/^Patch failed at \([0-9]*\) .*/\1/p' <<<"$out" | head -n1)
		subj=$(sed -n 's/^Patch failed at [0-9]* \(.*\)$/\1/p' <<<"$out" | head -n1)
		file=$(sed -n 's/^error: patch failed: \([^:]*\):.*/\1/p; s/^error: \([^:]*\): does not exist in index/\1/p' <<<"$out" | head -n1)
		RESULT="conflicts: patch ${n:-?} (${subj:-?}) in ${file:-?} (Linux $(kernel_version "$dir/$TREE_PKG"))"
	fi
	rm -rf "$dir"
}

cleanup() {
	local d

	for d in "${TMPDIRS[@]}" "${FETCHED[@]}"; do
		[[ -n "$d" ]] && rm -rf "$d"
	done
	base_cleanup
}

main() {
	local opts suites="$DEFAULT_SUITES" markdown="" s v result mark list=() rows=() vers=() pins=0
	local -A seen=()

	KEEP=0
	opts=$(getopt -o h -l help,tree:,suites:,markdown:,keep-debs,no-install,pins -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--suites) suites="$2"; shift 2 ;;
		--markdown) markdown="$2"; shift 2 ;;
		--keep-debs) KEEP=1; shift ;;
		--pins) pins=1; shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	if [[ $pins -eq 1 ]]; then
		[[ -z "$markdown" && $KEEP -eq 0 && "$suites" == "$DEFAULT_SUITES" ]] ||
			die "--pins reads each tree's own suites: no --suites, --markdown or --keep-debs with it"
		[[ -n "$TREE" ]] && set -- "$TREE" || set -- "${KNOWN_TREES[@]}"
		common_opts_check
		need_tools apt-get apt-cache
		pins_report "$@"
		return 0
	fi
	common_opts_check
	mapfile -t list < <(split_list "$suites")
	for s in "${list[@]}"; do
		[[ -n "${SUITE_MIRROR[$s]:-}" ]] || die "unknown suite '$s' (known: ${!SUITE_MIRROR[*]})"
	done
	ensure_packages base
	need_tools apt-get apt-cache dpkg-deb tar xz git
	series_patches
	mapfile -t FILES < <(python3 - "${SERIES[@]}" <<'PY'
import re, sys
files = set()
for p in sys.argv[1:]:
    text = open(p).read()
    for a, body in re.findall(r'^diff --git a/(\S+) b/\S+\n(.*?)(?=^diff --git |\Z)', text, re.M | re.S):
        if not re.search(r'^--- /dev/null$', body, re.M):
            files.add(a)
print('\n'.join(sorted(files)))
PY
)
	[[ ${#FILES[@]} -gt 0 ]] || die "the series of $TREE changes no existing file"
	TMPDIRS=()
	FETCHED=()
	trap cleanup EXIT

	log "$TREE: ${#SERIES[@]} patches touching ${#FILES[@]} existing files; suites: ${list[*]}"
	for s in "${list[@]}"; do
		use_suite "$s"
		mapfile -t vers < <(base_versions | sort -u)
		[[ ${#vers[@]} -gt 0 ]] || { log "$s: no $TREE_PKG"; rows+=("$s|none|-"); continue; }
		for v in "${vers[@]}"; do
			if [[ -n "${seen[$v]:-}" ]]; then
				rows+=("$s|$v|${seen[$v]} (see above)")
				continue
			fi
			fetch_deb "$s" "$v"
			try_version "$DEB"
			result="$RESULT"
			seen[$v]="$result"
			mark=""
			[[ "$v" != "$TREE_VERSION" ]] || mark=" (the pin)"
			printf '%-20s %-22s %s%s\n' "$s" "$v" "$result" "$mark"
			rows+=("$s|$v$mark|$result")
			if [[ $KEEP -eq 0 && "$v" != "$TREE_VERSION" ]]; then
				rm -f "$DEB"
			fi
		done
	done
	if [[ -n "$markdown" ]]; then
		{
			printf 'Made %s with `scripts/debian-versions.sh --tree %s`.\n\n' "$(date -u +%Y-%m-%d)" "$TREE"
			printf '| suite | %s | series |\n| --- | --- | --- |\n' "$TREE_PKG"
			printf '%s\n' "${rows[@]}" | awk -F'|' '{printf "| %s | %s | %s |\n", $1, $2, $3}'
		} >"$markdown"
		log "wrote $markdown"
	fi
}

main "$@"
