# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages of every step, in one list, and the one installer.
# Sourced after common.sh and arches.sh.

# needs_of ITEM: "test:package" pairs.  A test is a command name or an
# absolute path of a file.  ITEM is a group below or arch:<name>.
needs_of() {
	case "$1" in
	base)
		printf '%s\n' git:git apt-get:apt dpkg-deb:dpkg xz:xz-utils flock:util-linux \
			python3:python3 timeout:coreutils
		;;
	build)
		printf '%s\n' make:make gcc:gcc bc:bc flex:flex bison:bison perl:perl \
			/usr/include/libelf.h:libelf-dev /usr/include/openssl/ssl.h:libssl-dev \
			ccache:ccache cpio:cpio \
			/usr/lib/python3/dist-packages/ply/__init__.py:python3-ply \
			/usr/lib/python3/dist-packages/git/__init__.py:python3-git
		;;
	vma)
		printf '%s\n' "/usr/include/$(uname -m)-linux-gnu/urcu.h:liburcu-dev"
		;;
	shellcheck)
		printf '%s\n' shellcheck:shellcheck
		;;
	apply)
		printf '%s\n' b4:b4 quilt:quilt perl:perl
		;;
	selftests)
		# make headers_install copies with rsync.
		printf '%s\n' rsync:rsync
		;;
	stress-ng)
		# mke2fs for the guest's ext2, readelf for the libraries.
		printf '%s\n' mke2fs:e2fsprogs readelf:binutils
		;;
	debian-configs)
		# pahole keeps Debian's BTF options through olddefconfig.
		printf '%s\n' pahole:dwarves
		;;
	robot-gcc)
		printf '%s\n' sparse:sparse
		;;
	robot-clang)
		printf '%s\n' clang-19:clang-19 ld.lld-19:lld-19 llvm-ar-19:llvm-19
		;;
	robot-arm)
		printf '%s\n' arm-linux-gnueabihf-gcc:gcc-arm-linux-gnueabihf
		;;
	robot-i386)
		printf '%s\n' gcc:gcc
		;;
	arch:*)
		arch_vars "${1#arch:}"
		printf '%s\n' "${ARCH_PKGS[@]}"
		;;
	*)
		die "internal: unknown package group '$1'"
		;;
	esac
}

# ensure_packages ITEM...: install what the items need when root (unless
# NO_INSTALL=1), otherwise die naming the apt-get line to run.
ensure_packages() {
	local item pair test pkg missing=() cmd

	for item in "$@"; do
		while IFS= read -r pair; do
			test="${pair%%:*}"
			pkg="${pair#*:}"
			if [[ "$test" == /* ]]; then
				[[ -e "$test" ]] && continue
			else
				command -v "$test" >/dev/null 2>&1 && continue
			fi
			[[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
		done < <(needs_of "$item")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0

	cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
	if [[ $EUID -ne 0 || "$NO_INSTALL" == 1 ]]; then
		die "missing packages; run: ${cmd[*]}"
	fi
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 ||
		die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive "${cmd[@]}" >/dev/null 2>&1 ||
		die "apt-get install failed: ${cmd[*]}"
}

# ensure_packages_for ITEM...: ensure_packages for the items and for every
# architecture in ARCHES.
ensure_packages_for() {
	local a items=("$@")

	for a in "${ARCHES[@]}"; do
		items+=("arch:$a")
	done
	ensure_packages "${items[@]}"
}
