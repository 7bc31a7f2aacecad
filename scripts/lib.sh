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
