# SPDX-License-Identifier: GPL-2.0
# Kernel helpers of the QEMU runners (run-qemu.sh, scripts/bench.sh): work
# trees, config fragments, builds, initramfs.  Sourced after lib.sh; they use
# ARCH, JOBS, TIMEOUT and set CROSS, IMAGE, IMAGE_TARGET, CONSOLE, QEMU_CMD.

arch_vars() {
	local arch="$1"

	case "$arch" in
	x86_64)
		CROSS=""
		IMAGE=arch/x86/boot/bzImage
		IMAGE_TARGET=bzImage
		CONSOLE=ttyS0
		QEMU_CMD=(qemu-system-x86_64 -bios qboot.rom)
		;;
	arm64)
		CROSS=aarch64-linux-gnu-
		IMAGE=arch/arm64/boot/Image
		IMAGE_TARGET=Image
		CONSOLE=ttyAMA0
		QEMU_CMD=(qemu-system-aarch64 -machine virt -cpu 'max,pauth-impdef=on')
		;;
	esac
}

# prepare_tree patched|base: apply the series (patched) or only the test
# patch (base) in the shared work tree of that name; print its directory.
prepare_tree() {
	local tree="$1" n

	if [[ "$tree" == patched ]]; then
		"$REPO_DIR/scripts/apply-series.sh" --quiet --work-dir "$CACHE_DIR/work/kunit-patched"
	else
		n=$(series_patches | wc -l)
		"$REPO_DIR/scripts/apply-series.sh" --quiet --pick "$n" --work-dir "$CACHE_DIR/work/kunit-base"
	fi
}

# The options of the fragments, as "CONFIG_X=v" or "CONFIG_X=n" lines.
requested_options() {
	sed -n -e 's/^\(CONFIG_[A-Za-z0-9_]*=.*\)$/\1/p' \
	       -e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1=n/p' "$@"
}

# configure TREE_DIR BUILD_DIR LOG FRAGMENT...: merge the fragments onto
# allnoconfig and check that every requested option has the requested value
# (6.12's merge_config.sh only warns).
configure() {
	local tree="$1" out="$2" log="$3" frags opt sym want have bad=()

	shift 3
	frags=("$@")
	mkdir -p "$out"
	[[ -f "$out/.config" ]] && cp -p "$out/.config" "$out/.config.prev"
	(cd "$tree" && ARCH="$ARCH" CROSS_COMPILE="$CROSS" \
		scripts/kconfig/merge_config.sh -n -O "$out" "${frags[@]}") >"$log" 2>&1 ||
		die "merge_config.sh failed (log: $log)"
	# Keep the old time stamp when nothing changed: no needless relink.
	if [[ -f "$out/.config.prev" ]]; then
		cmp -s "$out/.config" "$out/.config.prev" && touch -r "$out/.config.prev" "$out/.config"
		rm -f "$out/.config.prev"
	fi
	while IFS= read -r opt; do
		sym="${opt%%=*}"
		want="${opt#*=}"
		have=$(sed -n "s/^$sym=//p" "$out/.config")
		[[ -n "$have" ]] || have=n
		[[ "$have" == "$want" ]] || bad+=("$sym=$want (got $have)")
	done < <(requested_options "${frags[@]}")
	[[ ${#bad[@]} -eq 0 ]] || die "options not in .config as requested: ${bad[*]} (log: $log)"
}

build_kernel() {
	local tree="$1" out="$2" log="$3" cc cmd

	cc="${CROSS}gcc"
	command -v ccache >/dev/null 2>&1 && cc="ccache $cc"
	cmd=(make -C "$tree" O="$out" ARCH="$ARCH" CROSS_COMPILE="$CROSS" CC="$cc"
	     -j"$JOBS" "$IMAGE_TARGET")
	if ! "${cmd[@]}" >"$log" 2>&1; then
		grep -a -E 'error|Error' "$log" | head -n 5 >&2 || true
		die "kernel build failed for $ARCH (log: $log)"
	fi
}

# make_initramfs BUILD_DIR DEST INIT_SOURCE: the static init compiled from
# INIT_SOURCE, packed with the kernel's usr/gen_init_cpio into DEST.
make_initramfs() {
	local out="$1" dest="$2" src="$3" init list

	init="$out/$(basename "$src" .c)"
	list="$init.list"
	"${CROSS}gcc" -static -O2 -Wall -Wextra -Werror -o "$init.tmp" "$src" ||
		die "cannot compile $src for $ARCH"
	mv "$init.tmp" "$init"
	cat >"$list" <<EOT
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /tmp 01777 0 0
file /init $init 0755 0 0
EOT
	[[ -x "$out/usr/gen_init_cpio" ]] || die "$out/usr/gen_init_cpio was not built"
	# A fixed time stamp: the same init gives the same initramfs.
	"$out/usr/gen_init_cpio" -t 1700000000 "$list" >"$dest.tmp" || die "gen_init_cpio failed"
	mv "$dest.tmp" "$dest"
}

# arches_of x86_64|arm64|all: set ARCHES to the architectures asked for.
arches_of() {
	case "$1" in
	all) ARCHES=(x86_64 arm64) ;;
	x86_64 | arm64) ARCHES=("$1") ;;
	*) die "unknown arch '$1' (known: x86_64, arm64, all)" ;;
	esac
}

# need_count OPTION VALUE WHAT: VALUE must be a positive integer.
need_count() {
	[[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 takes $3, not '$2'"
}

# run_guest CONSOLE WHAT QEMU_COMMAND...: run QEMU under the time limit
# TIMEOUT with its console in CONSOLE; die if the guest hangs or QEMU fails.
run_guest() {
	local console="$1" what="$2" rc=0

	shift 2
	timeout -k 10 "$TIMEOUT" "$@" </dev/null >"$console" 2>&1 || rc=$?
	[[ $rc -ne 124 && $rc -ne 137 ]] ||
		die "the $what guest hung: no power-off within ${TIMEOUT}s (console: $console)"
	[[ $rc -eq 0 ]] || die "QEMU failed for $what with status $rc (console: $console)"
}
