#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# For every version of a tree's linux-source packages that Debian's archive
# serves, say whether the tree's series applies to it.  Reads the live
# archive: not part of the test command.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

# Suites that may carry a kernel of a tree, each reached through a private
# apt configuration in the cache (never the machine's): SUITE=MIRROR.
declare -A SUITE_MIRROR=(
	[experimental]=http://deb.debian.org/debian
	[sid]=http://deb.debian.org/debian
	[forky]=http://deb.debian.org/debian
	[trixie]=http://deb.debian.org/debian
	[trixie-updates]=http://deb.debian.org/debian
	[trixie-security]=http://deb.debian.org/debian-security
	[trixie-backports]=http://deb.debian.org/debian
	[bookworm-security]=http://deb.debian.org/debian-security
	[bookworm-backports]=http://deb.debian.org/debian
)
# tree_defaults: "TREE: PACKAGES in SUITES" for each tree of the table.
tree_defaults() {
	local t

	for t in "${KNOWN_TREES[@]}"; do
		(
			tree_vars "$t"
			printf '%s%s: %s in %s\n' "$1" "$t" "$TREE_PKG_RE" \
				"$(IFS=,; printf '%s' "${TREE_VERSION_SUITES[*]}")"
		)
	done
}

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

List every version of the tree's Debian source packages (those whose name
matches the tree table's TREE_PKG_RE) in the given suites of Debian's
archive, each suite read through a private apt configuration in
\$CACHE_DIR/apt/<suite> (the machine's apt is never used or changed), and
for each version: download the package (apt checks it against the signed
index), take from its tarball the files the series changes, and git am
the series, its prerequisites first, onto them.  Prints one line per
version: "applies" or "conflicts: patch N (SUBJECT) in FILE".  The pinned
version is marked.  It reads a live archive, so its answer changes with
the archive; it is not part of the test command.

Packages and suites of each tree (the tree table's):
$(tree_defaults "  ")

Options:
      --tree TREE       tree (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
      --suites LIST     suites, comma separated, in this order (default:
                        the tree's, above; known: ${!SUITE_MIRROR[*]})
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

# suite_packages: the source packages of the current suite's index whose
# name matches TREE_PKG_RE, sorted by version.
suite_packages() {
	apt-cache "${APT_OPTS[@]}" pkgnames linux-source- 2>/dev/null |
		grep -xE -- "$TREE_PKG_RE" | sort -V || true
}

# fetch_deb SUITE PKG VERSION: set DEB to the package, downloaded if needed.
fetch_deb() {
	local suite="$1" pkg="$2" ver="$3"

	DEB="$CACHE_DIR/debs/${pkg}_${ver}_all.deb"
	[[ ! -f "$DEB" ]] || return 0
	use_suite "$suite"
	mkdir -p "$CACHE_DIR/debs"
	base_download "$ver" "$DEB" "$pkg"
	[[ $KEEP -eq 1 || "$pkg=$ver" == "$TREE_PKG=$TREE_VERSION" ]] || FETCHED+=("$DEB")
}

# try_version DEB PKG: apply the series to the files it changes, taken
# from the tarball of DEB (package PKG); set RESULT.
try_version() {
	local deb="$1" pkg="$2" dir members=() f out n subj file

	dir=$(mktemp -d "$CACHE_DIR/tmp.versions.XXXXXX")
	TMPDIRS+=("$dir")
	for f in Makefile "${FILES[@]}"; do
		members+=("$pkg/$f")
	done
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz" |
		tar -xJ -C "$dir" "${members[@]}" ||
		die "could not take ${#members[@]} files out of $deb"
	git_fixed -C "$dir/$pkg" init -q
	git_fixed -C "$dir/$pkg" add -f -A .
	git_fixed -C "$dir/$pkg" commit -q -m base
	if out=$(git_fixed -C "$dir/$pkg" am -q "${SERIES[@]}" 2>&1); then
		RESULT="applies (Linux $(kernel_version "$dir/$pkg"))"
	else
		n=$(sed -n 's/^Patch failed at \([0-9]*\) .*/\1/p' <<<"$out" | head -n1)
		subj=$(sed -n 's/^Patch failed at [0-9]* \(.*\)$/\1/p' <<<"$out" | head -n1)
		file=$(sed -n 's/^error: patch failed: \([^:]*\):.*/\1/p; s/^error: \([^:]*\): does not exist in index/\1/p' <<<"$out" | head -n1)
		RESULT="conflicts: patch ${n:-?} (${subj:-?}) in ${file:-?} (Linux $(kernel_version "$dir/$pkg"))"
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
	local opts suites="" markdown="" s v p result mark list=() rows=() vers=() pkgs=() pins=0
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
		[[ -z "$markdown" && $KEEP -eq 0 && -z "$suites" ]] ||
			die "--pins reads each tree's own suites: no --suites, --markdown or --keep-debs with it"
		[[ -n "$TREE" ]] && set -- "$TREE" || set -- "${KNOWN_TREES[@]}"
		common_opts_check
		need_tools apt-get apt-cache
		pins_report "$@"
		return 0
	fi
	common_opts_check
	if [[ -n "$suites" ]]; then
		mapfile -t list < <(split_list "$suites")
	else
		list=("${TREE_VERSION_SUITES[@]}")
	fi
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

	log "$TREE: ${#SERIES[@]} patches touching ${#FILES[@]} existing files; packages /$TREE_PKG_RE/; suites: ${list[*]}"
	for s in "${list[@]}"; do
		use_suite "$s"
		mapfile -t pkgs < <(suite_packages)
		if [[ ${#pkgs[@]} -eq 0 ]]; then
			log "$s: no package matches $TREE_PKG_RE"
			printf '%-20s %-18s %-22s %s\n' "$s" none - -
			rows+=("$s|none|-|-")
			continue
		fi
		for p in "${pkgs[@]}"; do
			mapfile -t vers < <(index_versions "$p" | sort -u -V)
			for v in "${vers[@]}"; do
				mark=""
				[[ "$p=$v" != "$TREE_PKG=$TREE_VERSION" ]] || mark=" (the pin)"
				if [[ -n "${seen[$p=$v]:-}" ]]; then
					result="${seen[$p=$v]} (see above)"
				else
					fetch_deb "$s" "$p" "$v"
					try_version "$DEB" "$p"
					result="$RESULT"
					seen[$p=$v]="$result"
					if [[ $KEEP -eq 0 && -z "$mark" ]]; then
						rm -f "$DEB"
					fi
				fi
				printf '%-20s %-18s %-22s %s%s\n' "$s" "$p" "$v" "$result" "$mark"
				rows+=("$s|$p|$v$mark|$result")
			done
		done
	done
	if [[ -n "$markdown" ]]; then
		{
			printf 'Made %s with `scripts/debian-versions.sh --tree %s`.\n\n' "$(date -u +%Y-%m-%d)" "$TREE"
			printf '| suite | package | version | series |\n| --- | --- | --- | --- |\n'
			printf '%s\n' "${rows[@]}" | awk -F'|' '{printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4}'
		} >"$markdown"
		log "wrote $markdown"
	fi
}

main "$@"
