# shellcheck shell=bash
# Every variable here is set for the scripts that source the file.
# shellcheck disable=SC2034
# SPDX-License-Identifier: GPL-2.0
#
# The architecture table: the only place that knows cross prefixes, QEMU
# machines, images and consoles.  Sourced after common.sh.

# Memory and CPUs of the debug guests (run-qemu.sh, class-race.sh): two NUMA
# nodes of half the memory and one CPU each, and a pool of 2 MiB huge pages.
# scripts/mm-selftests.sh sets its own before arch_vars.
GUEST_MEM_MB=1024
GUEST_CPUS=2
GUEST_HUGEPAGES=8

# Architectures that boot under QEMU; "riscv-nommu" is build-only (the no-MMU
# build check of check-series.sh).
KNOWN_ARCHES=(x86_64 arm64)
# Architectures that a script accepts besides KNOWN_ARCHES, never part of
# "all": run-kunit.sh sets it to KUNIT_ONLY_ARCHES.
EXTRA_ARCHES=()
# User Mode Linux, kunit.py's default: no QEMU, no guest, kunit.py only.
KUNIT_ONLY_ARCHES=(um)

# arch_vars NAME: set the per-arch variables.
#   KARCH         the kernel's ARCH=
#   DEBARCH       Debian's name of the architecture
#   CROSS         CROSS_COMPILE= (empty: native)
#   IMAGE         boot image, relative to the build directory
#   IMAGE_TARGET  make target of the image
#   CONSOLE       console device of the QEMU machine
#   QEMU_CMD      QEMU binary and machine options (array)
#   ARCH_PKGS     "test:package" pairs this arch needs (cross compiler,
#                 static libc, QEMU)
#   NUMA_QEMU     QEMU options for two NUMA nodes of GUEST_MEM_MB / 2 each
#   NUMA_APPEND   kernel command line for the same (x86_64 without ACPI:
#                 NUMA emulation)
arch_vars() {
	ARCH_NAME="$1"
	case "$1" in
	x86_64)
		KARCH=x86_64
		DEBARCH=amd64
		CROSS=""
		IMAGE=arch/x86/boot/bzImage
		IMAGE_TARGET=bzImage
		CONSOLE=ttyS0
		QEMU_CMD=(qemu-system-x86_64 -bios qboot.rom)
		ARCH_PKGS=(gcc:gcc /usr/lib/x86_64-linux-gnu/libc.a:libc6-dev
			   qemu-system-x86_64:qemu-system-x86 /usr/share/qemu/qboot.rom:qemu-system-data)
		NUMA_QEMU=()
		NUMA_APPEND="numa=fake=2"
		;;
	arm64)
		KARCH=arm64
		DEBARCH=arm64
		CROSS=aarch64-linux-gnu-
		IMAGE=arch/arm64/boot/Image
		IMAGE_TARGET=Image
		CONSOLE=ttyAMA0
		QEMU_CMD=(qemu-system-aarch64 -machine virt -cpu 'max,pauth-impdef=on')
		ARCH_PKGS=(aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu
			   /usr/aarch64-linux-gnu/lib/libc.a:libc6-dev-arm64-cross
			   qemu-system-aarch64:qemu-system-arm)
		NUMA_QEMU=(-object "memory-backend-ram,id=node0,size=$((GUEST_MEM_MB / 2))M"
			   -numa "node,nodeid=0,cpus=0,memdev=node0"
			   -object "memory-backend-ram,id=node1,size=$((GUEST_MEM_MB / 2))M"
			   -numa "node,nodeid=1,cpus=$(guest_cpus_of_node1),memdev=node1")
		NUMA_APPEND=""
		;;
	um)
		KARCH=um
		DEBARCH=amd64
		CROSS=""
		IMAGE=linux
		IMAGE_TARGET=linux
		CONSOLE=""
		QEMU_CMD=()
		ARCH_PKGS=(gcc:gcc /usr/lib/x86_64-linux-gnu/libc.a:libc6-dev)
		NUMA_QEMU=()
		NUMA_APPEND=""
		;;
	riscv-nommu)
		KARCH=riscv
		DEBARCH=riscv64
		CROSS=riscv64-linux-gnu-
		IMAGE=arch/riscv/boot/Image
		IMAGE_TARGET=Image
		CONSOLE=""
		QEMU_CMD=()
		ARCH_PKGS=(riscv64-linux-gnu-gcc:gcc-riscv64-linux-gnu)
		NUMA_QEMU=()
		NUMA_APPEND=""
		;;
	*)
		die "unknown arch '$1' (known: ${KNOWN_ARCHES[*]}, all)"
		;;
	esac
}

# parse_arches VALUE: set ARCHES from "all" or a comma separated list; the
# same form for every script's --arch.
parse_arches() {
	local a

	ARCHES=()
	if [[ "$1" == all ]]; then
		ARCHES=("${KNOWN_ARCHES[@]}")
		return 0
	fi
	for a in ${1//,/ }; do
		[[ " ${KNOWN_ARCHES[*]} ${EXTRA_ARCHES[*]} " == *" $a "* ]] ||
			die "unknown arch '$a' (known: ${KNOWN_ARCHES[*]}${EXTRA_ARCHES[*]:+ ${EXTRA_ARCHES[*]}}, all)"
		[[ " ${ARCHES[*]} " == *" $a "* ]] || ARCHES+=("$a")
	done
	[[ ${#ARCHES[@]} -gt 0 ]] || die "--arch needs at least one architecture"
}

# The C compiler of the arch, through ccache when there is one.
arch_cc() {
	local cc="${CROSS}gcc"

	command -v ccache >/dev/null 2>&1 && cc="ccache $cc"
	printf '%s\n' "$cc"
}

# The CPUs of the second NUMA node: all but the first (GUEST_CPUS may be
# raised by a script before arch_vars: mm-selftests.sh's migration needs 3).
guest_cpus_of_node1() {
	if [[ $GUEST_CPUS -gt 2 ]]; then
		printf '1-%d\n' $((GUEST_CPUS - 1))
	else
		printf '1\n'
	fi
}

# guest_machine: the QEMU options (GUEST_QEMU, array) and kernel command line
# words (GUEST_APPEND) of the debug guests for the arch of arch_vars.
guest_machine() {
	GUEST_QEMU=(-accel tcg -m "$GUEST_MEM_MB" -smp "$GUEST_CPUS" "${NUMA_QEMU[@]}")
	GUEST_APPEND="hugepages=$GUEST_HUGEPAGES${NUMA_APPEND:+ $NUMA_APPEND}"
}
