#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's linux-source-6.12 at the pinned version, verify it, and
# import it as a git repository whose base commit id is the same everywhere.
set -euo pipefail

PROG=$(basename "$0")
SCRIPTS_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPTS_DIR/lib.sh"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

Download $BASE_DEB_PACKAGE from Debian's archive (apt-get download), check its
sha256, unpack it and import it as a git repository with a deterministic base
commit (fixed author, committer and dates).  A second run reuses the cache.

Options:
  --version VER     Debian package version to use
                    (default: $BASE_DEB_VERSION_PINNED, the pinned base)
  --sha256 SUM      expected sha256 of the .deb (default: the pinned sum for
                    the pinned version; for another version, the sum from the
                    archive index, 'apt-cache show')
  --cache-dir DIR   where downloads and trees live (default: $CACHE_DIR;
                    environment: FORKFIX_CACHE)
  --list            list the versions the archive offers and exit
  -q, --quiet       print only the base repository path and commit id
  -h, --help        show this help

Output (stdout): the base repository directory and the base commit id, one
per line.  The commit is tagged 'base' in that repository.
EOT
}

available_versions() {
	apt-cache madison "$BASE_DEB_PACKAGE" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}'
}

index_sha256() {
	local ver="$1"

	apt-cache show "$BASE_DEB_PACKAGE=$ver" 2>/dev/null | awk '/^SHA256:/ {print $2; exit}'
}

# Download the .deb into $deb (atomically), or fail listing what is on offer.
download_deb() {
	local ver="$1" deb="$2" tmp versions

	need_tools apt-get apt-cache
	mapfile -t versions < <(available_versions)
	if [[ ${#versions[@]} -eq 0 ]]; then
		die "the archive index lists no $BASE_DEB_PACKAGE at all (run 'apt-get update' first?)"
	fi
	if ! printf '%s\n' "${versions[@]}" | grep -qxF -- "$ver"; then
		die "$BASE_DEB_PACKAGE $ver is not in the archive; on offer: ${versions[*]} (choose one with --version; the base commit will then differ)"
	fi
	tmp=$(mktemp -d "$CACHE_DIR/tmp.download.XXXXXX")
	TMPDIRS+=("$tmp")
	log "downloading $BASE_DEB_PACKAGE=$ver (about 150 MB)"
	if ! (cd "$tmp" && apt-get download -q "$BASE_DEB_PACKAGE=$ver" >/dev/null 2>"$tmp/err"); then
		die "apt-get download $BASE_DEB_PACKAGE=$ver failed: $(grep -m1 '^E:' "$tmp/err" || tail -n1 "$tmp/err")"
	fi
	mv "$tmp"/*.deb "$deb"
}

verify_deb() {
	local deb="$1" want="$2" got

	got=$(sha256sum "$deb" | awk '{print $1}')
	[[ "$got" == "$want" ]]
}

# Unpack the tarball from the .deb and import it as a git repository.
import_base() {
	local ver="$1" deb="$2" repo="$3" tmp src commit

	need_tools dpkg-deb tar xz git
	tmp=$(mktemp -d "$CACHE_DIR/tmp.import.XXXXXX")
	TMPDIRS+=("$tmp")
	log "unpacking the kernel tarball (about 30 s)"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$tmp" "./usr/src/$BASE_DEB_PACKAGE.tar.xz"
	tar -xJ -C "$tmp" -f "$tmp/usr/src/$BASE_DEB_PACKAGE.tar.xz"
	rm -rf "${tmp:?}/usr"
	src="$tmp/$BASE_DEB_PACKAGE"
	[[ -f "$src/Makefile" && -f "$src/mm/mmap.c" ]] || die "unexpected tarball layout in $deb"

	log "importing into git (about 1 min)"
	git_fixed -C "$src" init -q -b import
	# Debian's top-level .gitignore ignores everything, hence -f.
	git_fixed -C "$src" add -f -A .
	git_fixed -C "$src" -c gc.auto=0 commit -q --no-verify -m "Linux $(kernel_version "$src") from Debian $BASE_DEB_PACKAGE $ver

Imported unmodified from $BASE_DEB_PACKAGE.tar.xz of
${BASE_DEB_PACKAGE}_${ver}_all.deb."
	commit=$(git -C "$src" rev-parse HEAD)
	git_fixed -C "$src" tag base "$commit"
	mkdir -p "$(dirname "$repo")"
	mv "$src" "$repo"
}

kernel_version() {
	awk '/^VERSION =/ {v=$3} /^PATCHLEVEL =/ {p=$3} /^SUBLEVEL =/ {s=$3} END {print v"."p"."s}' "$1/Makefile"
}

cleanup() {
	local d

	for d in "${TMPDIRS[@]}"; do
		[[ -n "$d" ]] && rm -rf "$d"
	done
}

main() {
	local ver="$BASE_DEB_VERSION_PINNED" sha="" quiet=0 list=0 opts deb repo commit

	opts=$(getopt -o hq -l help,quiet,list,version:,sha256:,cache-dir: -n "$PROG" -- "$@") ||
		{ usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--version) ver="$2"; shift 2 ;;
		--sha256) sha="$2"; shift 2 ;;
		--cache-dir) CACHE_DIR="$2"; shift 2 ;;
		--list) list=1; shift ;;
		-q | --quiet) quiet=1; shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"

	if [[ $list -eq 1 ]]; then
		need_tools apt-cache
		available_versions
		exit 0
	fi

	if [[ -z "$sha" ]]; then
		if [[ "$ver" == "$BASE_DEB_VERSION_PINNED" ]]; then
			sha="$BASE_DEB_SHA256_PINNED"
		else
			need_tools apt-cache
			sha=$(index_sha256 "$ver")
			[[ -n "$sha" ]] || die "$BASE_DEB_PACKAGE $ver is not in the archive index; on offer: $(available_versions | tr '\n' ' ')"
			log "warning: $ver is not the pinned base ($BASE_DEB_VERSION_PINNED); using the index's sha256"
		fi
	fi
	[[ "$sha" =~ ^[0-9a-f]{64}$ ]] || die "not a sha256: $sha"

	mkdir -p "$CACHE_DIR/debs"
	TMPDIRS=()
	trap cleanup EXIT
	deb="$CACHE_DIR/debs/${BASE_DEB_PACKAGE}_${ver}_all.deb"
	repo=$(base_repo_dir "$ver")

	if ! git -C "$repo" rev-parse -q --verify "$BASE_REF^{commit}" >/dev/null 2>&1; then
		if [[ -e "$repo" ]]; then
			log "removing an incomplete import at $repo"
			rm -rf "$repo"
		fi
		if [[ -f "$deb" ]] && ! verify_deb "$deb" "$sha"; then
			log "cached $deb has the wrong sha256; downloading it again"
			rm -f "$deb"
		fi
		[[ -f "$deb" ]] || download_deb "$ver" "$deb"
		if ! verify_deb "$deb" "$sha"; then
			rm -f "$deb"
			die "sha256 mismatch for ${deb##*/}: expected $sha (file removed)"
		fi
		log "sha256 ok: $sha"
		import_base "$ver" "$deb" "$repo"
	else
		[[ $quiet -eq 1 ]] || log "reusing $repo"
	fi

	commit=$(git -C "$repo" rev-parse "$BASE_REF^{commit}")
	if [[ $quiet -eq 0 ]]; then
		log "base tree:   $repo"
		log "base commit: $commit (Linux $(kernel_version "$repo"), $BASE_DEB_PACKAGE $ver)"
	fi
	printf '%s\n%s\n' "$repo" "$commit"
}

main "$@"
