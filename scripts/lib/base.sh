# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# The base of a tree: Debian's linux-source package at the pinned version,
# verified and imported as a git repository with a deterministic commit.
# Sourced after common.sh and trees.sh (tree_vars must have run).

# A package in a suite the machine does not list, or for an architecture it
# does not have, is reached through a private apt configuration under the
# cache: its own sources list, lists and package cache; the machine's apt
# configuration and state are never changed.
#
# apt_private SUITE MIRROR [DEBARCH [src]]: set APT_OPTS, the options of
# apt-get/apt-cache for SUITE (main) of MIRROR, for DEBARCH only when given
# (default: the machine's; "" for it), of its source packages instead with
# "src", and refresh its index once a day.  Call it in the shell that uses
# APT_OPTS, not in a subshell.
APT_OPTS=()
APT_READY=0

apt_private() {
	local suite="$1" mirror="$2" debarch="${3:-}" src="${4:-}" dir index=Packages deb=deb
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg

	dir="$CACHE_DIR/apt/$suite${debarch:+-$debarch}"
	if [[ "$src" == src ]]; then
		dir+=-src index=Sources deb=deb-src
	fi
	[[ -f "$keyring" ]] || die "$keyring is missing (package debian-archive-keyring)"
	mkdir -p "$dir/sources.list.d" "$dir/preferences.d" "$dir/lists/partial" \
		 "$dir/archives/partial"
	# No packages installed: candidates come from the index alone, never
	# from what the machine has installed.
	: >"$dir/status"
	printf '%s [%ssigned-by=%s] %s %s main\n' "$deb" "${debarch:+arch=$debarch }" "$keyring" \
		"$mirror" "$suite" >"$dir/sources.list.new"
	# A changed sources list (another mirror) invalidates the index.
	if ! cmp -s "$dir/sources.list.new" "$dir/sources.list"; then
		rm -f "$dir"/lists/*_"$index"*
		mv "$dir/sources.list.new" "$dir/sources.list"
	else
		rm -f "$dir/sources.list.new"
	fi
	APT_OPTS=(-o "Dir::Etc::SourceList=$dir/sources.list"
		  -o "Dir::Etc::SourceParts=$dir/sources.list.d"
		  -o "Dir::Etc::Preferences=$dir/preferences"
		  -o "Dir::Etc::PreferencesParts=$dir/preferences.d"
		  -o "Dir::State::Lists=$dir/lists" -o "Dir::State::status=$dir/status"
		  -o "Dir::Cache=$dir" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
		  -o "Dir::Cache::Archives=$dir/archives"
		  -o "Acquire::Languages=none")
	[[ -z "$debarch" ]] || APT_OPTS+=(-o "APT::Architecture=$debarch" -o "APT::Architectures=$debarch")
	# Refresh the private index once a day (it is small: one suite, main).
	if [[ -z "$(find "$dir/lists" -maxdepth 1 -name "*_$index*" -mmin -1440 2>/dev/null)" ]]; then
		log "updating the private apt index for $suite${debarch:+ ($debarch)} ($dir)"
		apt-get -q "${APT_OPTS[@]}" update >"$dir/update.log" 2>&1 ||
			die "apt-get update of $suite${debarch:+ ($debarch)} failed: $(grep -m1 -E '^(E|Err):' "$dir/update.log" || tail -n1 "$dir/update.log")"
	fi
}

# base_apt_setup: APT_OPTS for the tree's base package (TREE_APT_SUITE, or
# the machine's own apt when the tree names no suite).
base_apt_setup() {
	[[ $APT_READY -eq 0 ]] || return 0
	APT_READY=1
	APT_OPTS=()
	[[ -n "$TREE_APT_SUITE" ]] || return 0
	apt_private "$TREE_APT_SUITE" "$TREE_APT_MIRROR"
}

# arch_pin PIN...: the sha256 of "<debarch>:<sha256>" pins for DEBARCH (the
# arch of arch_vars); non-zero, printing nothing, when none is for it.
arch_pin() {
	local w

	for w in "$@"; do
		if [[ "${w%%:*}" == "$DEBARCH" ]]; then
			printf '%s\n' "${w#*:}"
			return 0
		fi
	done
	return 1
}

# deb_unpacked PKG VERSION DEBARCH SUITE MIRROR SHA256 [HINT]: set DEB_DIR
# to the unpacked contents (dpkg-deb -x) of PKG=VERSION for DEBARCH, kept in
# the cache ($CACHE_DIR/debs/<pkg>_<version>_<debarch>/): the .deb is
# downloaded through a private apt configuration when missing, its sha256
# checked against the pin; die listing the versions on offer, and HINT (how
# to move the pin; "{newest}" in it becomes the newest version on offer),
# when the archive no longer has VERSION.  Under the lock
# "debs"; never in $(...), where errexit would be off.
deb_unpacked() {
	local pkg="$1" ver="$2" debarch="$3" suite="$4" mirror="$5" sha="$6"
	local hint="${7:-update the pin of $pkg in scripts/}" deb dir tmp versions=() err

	deb="$CACHE_DIR/debs/${pkg}_${ver//\~/_}_$debarch.deb"
	dir="${deb%.deb}"
	# shellcheck disable=SC2034 # read by the caller
	DEB_DIR="$dir"
	take_lock debs
	if [[ -f "$dir/.done" ]]; then
		release_lock debs
		return 0
	fi
	rm -rf "$dir"
	if [[ ! -f "$deb" ]] || ! base_sha_ok "$deb" "$sha"; then
		rm -f "$deb"
		need_tools apt-get apt-cache sha256sum
		apt_private "$suite" "$mirror" "$debarch"
		mapfile -t versions < <(index_versions "$pkg")
		printf '%s\n' "${versions[@]}" | grep -qxF -- "$ver" ||
			die "$pkg $ver ($debarch) is not in $suite; on offer: ${versions[*]:-none} (${hint//\{newest\}/${versions[0]:-none}})"
		mkdir -p "$CACHE_DIR/debs"
		tmp=$(mktemp -d "$CACHE_DIR/tmp.download.XXXXXX")
		log "downloading $pkg=$ver ($debarch) from $suite"
		if ! (cd "$tmp" && apt-get download -q "${APT_OPTS[@]}" "$pkg:$debarch=$ver" >/dev/null 2>"$tmp/err"); then
			err=$(grep -m1 '^E:' "$tmp/err" || tail -n1 "$tmp/err")
			rm -rf "$tmp"
			die "apt-get download $pkg:$debarch=$ver failed: $err"
		fi
		mv "$tmp"/*.deb "$deb.tmp"
		rm -rf "$tmp"
		if ! base_sha_ok "$deb.tmp" "$sha"; then
			rm -f "$deb.tmp"
			die "sha256 mismatch for ${deb##*/}: expected $sha (file removed)"
		fi
		mv "$deb.tmp" "$deb"
	fi
	need_tools dpkg-deb
	if ! dpkg-deb -x "$deb" "$dir.tmp"; then
		rm -rf "$dir.tmp"
		die "cannot unpack ${deb##*/}"
	fi
	mv "$dir.tmp" "$dir"
	touch "$dir/.done"
	release_lock debs
}

# repin_hint VERSION NEWEST: what to do when VERSION is not on offer: move
# the pin when VERSION is the pin, else pick another --version.
repin_hint() {
	if [[ "$1" == "$TREE_VERSION" ]]; then
		printf 'the pin of %s is gone: run scripts/repin.sh --tree %s --version %s' "$TREE" "$TREE" "$2"
	else
		printf 'choose one with --version; the base commit will then differ'
	fi
}

# index_versions PKG: the versions of PKG that the index of APT_OPTS
# offers, newest first (apt-cache madison's order), one a line.
index_versions() {
	apt-cache "${APT_OPTS[@]}" madison "$1" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}'
}

# base_versions: the versions of the tree's package the index offers,
# newest first.
base_versions() {
	base_apt_setup
	index_versions "$TREE_PKG"
}

base_index_sha256() {
	base_apt_setup
	apt-cache "${APT_OPTS[@]}" show "$TREE_PKG=$1" 2>/dev/null | awk '/^SHA256:/ {print $2; exit}'
}

kernel_version() {
	awk '/^VERSION =/ {v=$3} /^PATCHLEVEL =/ {p=$3} /^SUBLEVEL =/ {s=$3} END {print v"."p"."s}' "$1/Makefile"
}

BASE_TMPDIRS=()
base_cleanup() {
	local d

	for d in "${BASE_TMPDIRS[@]}"; do
		[[ -n "$d" ]] && rm -rf "$d"
	done
	BASE_TMPDIRS=()
}

# base_download VERSION DEB [PKG]: download the .deb of PKG (default: the
# tree's TREE_PKG) at VERSION to DEB, or die listing what is on offer.
base_download() {
	local ver="$1" deb="$2" pkg="${3:-$TREE_PKG}" tmp versions=()

	need_tools apt-get apt-cache
	base_apt_setup
	mapfile -t versions < <(index_versions "$pkg")
	[[ ${#versions[@]} -gt 0 ]] ||
		die "the archive index lists no $pkg at all (run 'apt-get update' first?${TREE_APT_SUITE:+ private index: $CACHE_DIR/apt/$TREE_APT_SUITE})"
	printf '%s\n' "${versions[@]}" | grep -qxF -- "$ver" ||
		die "$pkg $ver is not in the archive; on offer: ${versions[*]} ($(repin_hint "$ver" "${versions[0]}"))"
	tmp=$(mktemp -d "$CACHE_DIR/tmp.download.XXXXXX")
	BASE_TMPDIRS+=("$tmp")
	log "downloading $pkg=$ver (about 150 MB)"
	(cd "$tmp" && apt-get download -q "${APT_OPTS[@]}" "$pkg=$ver" >/dev/null 2>"$tmp/err") ||
		die "apt-get download $pkg=$ver failed: $(grep -m1 '^E:' "$tmp/err" || tail -n1 "$tmp/err")"
	mv "$tmp"/*.deb "$deb"
}

base_sha_ok() {
	[[ "$(sha256sum "$1" | awk '{print $1}')" == "$2" ]]
}

# Unpack the tarball of DEB and import it as the git repository REPO.
base_import() {
	local ver="$1" deb="$2" repo="$3" tmp src

	need_tools dpkg-deb tar xz git
	tmp=$(mktemp -d "$CACHE_DIR/tmp.import.XXXXXX")
	BASE_TMPDIRS+=("$tmp")
	log "unpacking the kernel tarball (about 30 s)"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./usr/src/$TREE_PKG.tar.xz"
	tar -xJ -C "$tmp" -f "$tmp/usr/src/$TREE_PKG.tar.xz"
	rm -rf "${tmp:?}/usr"
	src="$tmp/$TREE_PKG"
	[[ -f "$src/Makefile" && -f "$src/mm/mmap.c" ]] || die "unexpected tarball layout in $deb"

	log "importing into git (about 1 min)"
	git_fixed -C "$src" init -q -b import
	# Debian's top-level .gitignore ignores everything, hence -f.
	git_fixed -C "$src" add -f -A .
	git_fixed -C "$src" -c gc.auto=0 commit -q --no-verify -m "Linux $(kernel_version "$src") from Debian $TREE_PKG $ver

Imported unmodified from $TREE_PKG.tar.xz of
${TREE_PKG}_${ver}_all.deb."
	git_fixed -C "$src" tag base HEAD
	mkdir -p "$(dirname "$repo")"
	mv "$src" "$repo"
}

# base_dir_of VERSION: the base repository of the tree's package at VERSION.
base_dir_of() {
	printf '%s/base/%s-%s\n' "$CACHE_DIR" "$TREE_PKG" "${1//\~/_}"
}

# base_fetch [VERSION [SHA256]]: make sure the base of VERSION (default: the
# pin) is imported; set BASE_DIR and BASE_COMMIT.  Under the base's lock.
base_fetch() {
	local ver="${1:-$TREE_VERSION}" sha="${2:-}" deb lock

	if [[ -z "$sha" ]]; then
		if [[ "$ver" == "$TREE_VERSION" ]]; then
			sha="$TREE_SHA256"
		else
			need_tools apt-cache
			base_apt_setup
			sha=$(base_index_sha256 "$ver")
			[[ -n "$sha" ]] ||
				die "$TREE_PKG $ver is not in the archive; on offer: $(base_versions | tr '\n' ' ')(choose one with --version)"
			log "warning: $ver is not the pinned base of $TREE ($TREE_VERSION); using the index's sha256"
		fi
	fi
	[[ "$sha" =~ ^[0-9a-f]{64}$ ]] || die "not a sha256: $sha"

	BASE_DIR=$(base_dir_of "$ver")
	if ! git -C "$BASE_DIR" rev-parse -q --verify "$BASE_REF^{commit}" >/dev/null 2>&1; then
		lock=$(lock_name "$BASE_DIR")
		take_lock "$lock"
		if ! git -C "$BASE_DIR" rev-parse -q --verify "$BASE_REF^{commit}" >/dev/null 2>&1; then
			mkdir -p "$CACHE_DIR/debs"
			trap base_cleanup EXIT
			deb="$CACHE_DIR/debs/${TREE_PKG}_${ver}_all.deb"
			if [[ -e "$BASE_DIR" ]]; then
				log "removing an incomplete import at $BASE_DIR"
				rm -rf "${BASE_DIR:?}"
			fi
			if [[ -f "$deb" ]] && ! base_sha_ok "$deb" "$sha"; then
				log "cached ${deb##*/} has the wrong sha256; downloading it again"
				rm -f "$deb"
			fi
			[[ -f "$deb" ]] || base_download "$ver" "$deb"
			if ! base_sha_ok "$deb" "$sha"; then
				rm -f "$deb"
				die "sha256 mismatch for ${deb##*/}: expected $sha (file removed)"
			fi
			log "sha256 ok: $sha"
			base_import "$ver" "$deb" "$BASE_DIR"
			base_cleanup
			trap - EXIT
		fi
		release_lock "$lock"
	fi
	BASE_COMMIT=$(git -C "$BASE_DIR" rev-parse "$BASE_REF^{commit}")
	if [[ "$ver" == "$TREE_VERSION" && "$BASE_COMMIT" != "$TREE_BASE_COMMIT" ]]; then
		die "the import of $TREE_PKG $ver gave commit $BASE_COMMIT, not the pinned $TREE_BASE_COMMIT (remove $BASE_DIR to import again)"
	fi
}

# maintainers_tree: the base repository whose scripts/get_maintainer.pl
# and MAINTAINERS name the people to mail (TREE_MAINT_TREE, default the
# tree itself), fetched if needed.
maintainers_tree() {
	local t="${TREE_MAINT_TREE:-$TREE}"

	(
		tree_vars "$t"
		base_fetch "$TREE_VERSION" >&2
		printf '%s\n' "$BASE_DIR"
	)
}

# maintainers_of TREE_DIR DEST PATCH...: for each PATCH, DEST/<name>.m gets
# the maintainers get_maintainer.pl of TREE_DIR names for it (M:) and
# DEST/<name>.o the reviewers and lists (R:, L:), one address a line; no
# git history is asked (the bases are tarball imports).
maintainers_of() {
	local dir="$1" dest="$2" p gm=(perl scripts/get_maintainer.pl --no-git --no-git-fallback --norolestats)
	shift 2

	mkdir -p "$dest"
	for p in "$@"; do
		(cd "$dir" && "${gm[@]}" --no-r --no-l "$p" 2>/dev/null) >"$dest/${p##*/}.m" &&
		(cd "$dir" && "${gm[@]}" --no-m "$p" 2>/dev/null) >"$dest/${p##*/}.o" ||
			die "scripts/get_maintainer.pl failed in $dir for ${p##*/}"
	done
}
