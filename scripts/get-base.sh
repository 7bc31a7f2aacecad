#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch a tree's Debian linux-source package at the pinned version, verify
# it, and import it as a git repository whose base commit id is the same
# everywhere.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

usage() {
	tree_vars "$DEFAULT_TREE"
	cat <<EOT
Usage: $PROG [OPTIONS]

Download the tree's linux-source package from Debian's archive (apt-get
download), check its sha256, unpack it and import it as a git repository
with a deterministic base commit (fixed author, committer and dates), which
must be the tree's pinned base-commit.  A second run reuses the cache; two
runs at once import once (the second waits).

Options:
      --tree TREE       tree (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
      --version VER     Debian package version to use (default: the pin;
                        $DEFAULT_TREE: $TREE_PKG $TREE_VERSION)
      --sha256 SUM      expected sha256 of the .deb (default: the pinned sum
                        for the pinned version; for another version, the sum
                        from the archive index, 'apt-cache show')
      --list            list the versions the archive offers and exit
      --no-install      never run apt-get install, only say what is missing
  -q, --quiet           print only the base repository path and commit id
  -h, --help            show this help

The cache is \$FORKFIX_CACHE ($CACHE_DIR).
Output (stdout): the base repository directory and the base commit id, one
per line.  The commit is tagged 'base' in that repository.
EOT
}

main() {
	local ver="" sha="" quiet=0 list=0 opts

	opts=$(getopt -o hq -l help,quiet,list,tree:,version:,sha256:,no-install -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--version) ver="$2"; shift 2 ;;
		--sha256) sha="$2"; shift 2 ;;
		--list) list=1; shift ;;
		-q | --quiet) quiet=1; shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	ensure_packages base

	if [[ $list -eq 1 ]]; then
		base_versions
		exit 0
	fi
	[[ $quiet -eq 1 ]] || log "$TREE: $TREE_PKG ${ver:-$TREE_VERSION}"
	base_fetch "$ver" "$sha"
	if [[ $quiet -eq 0 ]]; then
		log "base tree:   $BASE_DIR"
		log "base commit: $BASE_COMMIT (Linux $(kernel_version "$BASE_DIR"), $TREE_PKG ${ver:-$TREE_VERSION})"
	fi
	printf '%s\n%s\n' "$BASE_DIR" "$BASE_COMMIT"
}

main "$@"
