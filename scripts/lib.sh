# SPDX-License-Identifier: GPL-2.0
# Shared settings and helpers for the scripts in this directory.  Sourced, not run.

# The pinned base: Debian's linux-source-6.12 package.  Changing it changes
# every base-commit: line, so change all three together.
BASE_DEB_VERSION_PINNED="6.12.117-1~deb12u1"
BASE_DEB_SHA256_PINNED="e849faf31ca3555757f3a8877cb01af92122f744f75d1f3102734651c4e14703"
BASE_DEB_PACKAGE="linux-source-6.12"

# Everything large lives outside the repository.
CACHE_DIR="${FORKFIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/forkfix}"

# Fixed identity and dates for the imported base commit, so that its id is the
# same on every machine.
BASE_GIT_NAME="Linux 6.12 base import"
BASE_GIT_EMAIL="base@forkfix.invalid"
BASE_GIT_DATE="2026-11-14T12:56:00+00:00"

PROG="${PROG:-$(basename "$0")}"

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

# Directory of the git repository holding the imported base of a given
# Debian version.
base_repo_dir() {
	local ver="$1"

	printf '%s/base/%s-%s\n' "$CACHE_DIR" "$BASE_DEB_PACKAGE" "${ver//\~/_}"
}

# Ref of the base commit inside base_repo_dir().
BASE_REF="refs/tags/base"

# Run git with the fixed identity; used for every commit the scripts make.
git_fixed() {
	GIT_AUTHOR_NAME="$BASE_GIT_NAME" GIT_AUTHOR_EMAIL="$BASE_GIT_EMAIL" \
	GIT_AUTHOR_DATE="$BASE_GIT_DATE" GIT_COMMITTER_NAME="$BASE_GIT_NAME" \
	GIT_COMMITTER_EMAIL="$BASE_GIT_EMAIL" GIT_COMMITTER_DATE="$BASE_GIT_DATE" \
	git -c core.autocrlf=false -c core.fileMode=true -c core.symlinks=true \
	    -c commit.gpgSign=false -c tag.gpgSign=false "$@"
}

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PATCH_DIR="$REPO_DIR/patches"

# The patches of the series, in order, as listed in patches/series.
series_patches() {
	local dir="${1:-$PATCH_DIR}" line

	[[ -f "$dir/series" ]] || die "no series file in $dir"
	while IFS= read -r line || [[ -n "$line" ]]; do
		line="${line%%#*}"
		line="${line//[[:space:]]/}"
		[[ -n "$line" ]] || continue
		[[ -f "$dir/$line" ]] || die "$dir/series lists $line, which does not exist"
		printf '%s\n' "$dir/$line"
	done <"$dir/series"
}

# Make sure the base is imported; print its repository directory.
ensure_base() {
	local out

	out=$("$REPO_DIR/scripts/get-base.sh" --quiet) || exit 1
	printf '%s\n' "${out%%$'\n'*}"
}

# Remove a work tree made by apply-series.sh, if there is one.
remove_worktree() {
	local base="$1" dir="$2"

	if [[ -e "$dir" ]]; then
		git -C "$base" worktree remove --force "$dir" 2>/dev/null || rm -rf "$dir"
	fi
	git -C "$base" worktree prune
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

# Debian packages of the QEMU runs (run-qemu.sh, bench.sh): install them when
# root, otherwise name them.  NO_INSTALL=1 never installs.
NO_INSTALL="${NO_INSTALL:-0}"

# What each arch needs, as "test:package" pairs; a test is a command name or
# an absolute path of a file.
requirements() {
	local arch="$1"

	printf '%s\n' git:git make:make gcc:gcc bc:bc flex:flex bison:bison perl:perl \
		python3:python3 timeout:coreutils xz:xz-utils apt-get:apt \
		/usr/include/libelf.h:libelf-dev /usr/include/openssl/ssl.h:libssl-dev \
		ccache:ccache
	case "$arch" in
	x86_64)
		printf '%s\n' qemu-system-x86_64:qemu-system-x86 \
			/usr/share/qemu/qboot.rom:qemu-system-data \
			/usr/lib/x86_64-linux-gnu/libc.a:libc6-dev
		;;
	arm64)
		printf '%s\n' qemu-system-aarch64:qemu-system-arm \
			aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu \
			/usr/aarch64-linux-gnu/lib/libc.a:libc6-dev-arm64-cross
		;;
	esac
}

# Install (as root) or name (otherwise) the packages the arches need.
ensure_requirements() {
	local arch pair test pkg missing=() cmd

	for arch in "$@"; do
		while IFS= read -r pair; do
			test="${pair%%:*}"
			pkg="${pair#*:}"
			if [[ "$test" == /* ]]; then
				[[ -e "$test" ]] && continue
			else
				command -v "$test" >/dev/null 2>&1 && continue
			fi
			[[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
		done < <(requirements "$arch")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0

	cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
	if [[ $EUID -ne 0 || $NO_INSTALL -eq 1 ]]; then
		die "missing packages; run: ${cmd[*]}"
	fi
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
		die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive "${cmd[@]}" >/dev/null ||
		die "apt-get install failed: ${cmd[*]}"
}
