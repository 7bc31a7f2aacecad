# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel builds, initramfs and QEMU boots for run-qemu.sh, run-kunit.sh,
# check-series.sh, bench.sh and the runners of the suites we did not write
# (mm-selftests.sh, stress-ng.sh).  Sourced after common.sh, trees.sh and
# arches.sh (arch_vars must have run); JOBS and TIMEOUT come from the caller.

# The base and patched work trees of a purpose build with the same relative
# paths (srctree=".."); without the directory in the hash, ccache shares
# their objects.  CCACHE_BASEDIR covers the absolute paths that remain.
export CCACHE_NOHASHDIR=1
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$CACHE_DIR/work}"

# What counts as a splat in a guest's console (run-qemu.sh, class-race.sh,
# and through them the judges of the suites we did not write): the lines
# every tree prints the same way, each taken from the trees' sources:
#   - BUG:/WARNING:/Oops/panics, KASAN, lockdep, mm's own counters;
#   - the page-table *_ERROR() of x86 and arm64 ("<file>:<line>: bad pmd
#     ..."), printed by pgd_clear_bad() and friends when free_pgtables()
#     and the zap walk meet a corrupt entry;
#   - mm/swapfile.c's "Bad swap file entry" and "Bad swap offset entry";
#   - SLUB's own reports: "BUG <cache> (<taint>): ...", which has no colon
#     after BUG, "[<what> overwritten] 0x...", "Padding overwritten",
#     "Freepointer corrupt";
#   - RCU stall reports ("INFO: rcu_sched detected stalls on CPUs/tasks",
#     "INFO: rcu_preempt self-detected stall on CPU", rcu_tasks'), hung
#     tasks ("INFO: task <comm>:<pid> blocked for more than"), and
#     "** N printk messages dropped **" (a dropped line may be the splat).
# tree_vars adds the tree's own (TREE_SPLAT_RE) to SPLAT_RE.
# shellcheck disable=SC2034 # used by the scripts that source this
SPLAT_COMMON_RE='BUG:|WARNING:|KASAN|possible circular locking|inconsistent lock state|possible recursive locking|turning off the locking correctness validator|DEBUG_LOCKS_WARN_ON|Bad rss-counter|non-zero pgtables_bytes|Oops|Kernel panic|Unable to handle kernel|general protection fault|kernel BUG|Huh VM_FAULT_OOM leaked|invoked oom-killer'
SPLAT_COMMON_RE+='|:[0-9]+: bad (pte|pmd|pud|p4d|pgd) |Bad swap (file|offset) entry'
SPLAT_COMMON_RE+='|BUG [^ ]+ \([^)]*\): |overwritten\] 0x|Padding overwritten|Freepointer corrupt'
SPLAT_COMMON_RE+='|INFO: [a-z_]+ (self-)?detected stall|INFO: task .* blocked for more than|printk messages dropped'
# shellcheck disable=SC2034 # used by the scripts that source this
SPLAT_RE="$SPLAT_COMMON_RE"

# scan_splats CONSOLE OUT: the lines of CONSOLE that SPLAT_RE matches, into
# OUT; prints their number.  A console that cannot be read is an error, not
# a clean one.
scan_splats() {
	local console="$1" out="$2" rc=0

	[[ -r "$console" ]] || die "no console to scan for splats: $console"
	grep -a -E "$SPLAT_RE" "$console" >"$out" || rc=$?
	[[ $rc -le 1 ]] || die "scanning $console for splats failed (grep exit $rc)"
	wc -l <"$out"
}

# stage TEXT: a progress line of the guest runners (run-qemu.sh,
# mm-selftests.sh), with the time since ARCH_START.
stage() {
	printf '%s: [%s %s %s +%s] %s\n' "$PROG" "$TREE" "$VARIANT" "$ARCH" "$(elapsed "$ARCH_START")" "$*" >&2
}

# variants_opt VALUE: VARIANTS from the --variant option of the runners of
# the suites we did not write: base, patched or both.
variants_opt() {
	case "$1" in
	base | patched) VARIANTS=("$1") ;;
	both) VARIANTS=(base patched) ;;
	*) die "--variant takes base, patched or both, not '$1'" ;;
	esac
}

# each_variant_arch FUNCTION: FUNCTION for every variant of VARIANTS, its
# qemu work tree prepared (and locked), and every arch of ARCHES; VARIANT,
# ARCH and ARCH_START set.
each_variant_arch() {
	for VARIANT in "${VARIANTS[@]}"; do
		ARCH="-" ARCH_START=$SECONDS
		stage "base and series: $TREE_PKG $TREE_VERSION, patches/$TREE ($VARIANT)"
		prepare_tree "$VARIANT" qemu
		for ARCH in "${ARCHES[@]}"; do
			"$1"
		done
	done
}

# build_dir NAME: the build directory NAME of the current work tree.
build_dir() {
	printf '%s/.build-%s\n' "$TREE_DIR" "$1"
}

# make_cmd OUT: the make command for the current arch and work tree, as
# the array MAKE_CMD.
make_cmd() {
	MAKE_CMD=(make -C "$TREE_DIR" O="$1" ARCH="$KARCH" CC="$(arch_cc)" -j"$JOBS")
	[[ -z "$CROSS" ]] || MAKE_CMD+=(CROSS_COMPILE="$CROSS")
}

# The options of the fragments, as "CONFIG_X=v" or "CONFIG_X=n" lines.
requested_options() {
	sed -n -e 's/^\(CONFIG_[A-Za-z0-9_]*=.*\)$/\1/p' \
	       -e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1=n/p' "$@"
}

# check_options CONFIG FRAGMENT...: print every option of the fragments
# that is not in CONFIG with the value asked for; non-zero if any.
check_options() {
	local config="$1" opt sym want have bad=0
	shift

	while IFS= read -r opt; do
		sym="${opt%%=*}"
		want="${opt#*=}"
		have=$(sed -n "s/^$sym=//p" "$config")
		[[ -n "$have" ]] || have=n
		if [[ "$have" != "$want" ]]; then
			printf '%s=%s (got %s)\n' "$sym" "$want" "$have"
			bad=1
		fi
	done < <(requested_options "$@")
	return "$bad"
}

# configure OUT LOG BASECONFIG FRAGMENT...: merge the fragments and the
# tree's own lines (tree_fragment) onto BASECONFIG and die unless every
# requested option has the requested value (merge_config.sh only warns;
# CONFIG_CHECK=0 skips that check, for the per-patch builds of a series
# whose symbols do not exist yet).
# BASECONFIG "allnoconfig" merges with merge_config.sh -n (options not
# asked for stay off); any other make target (tinyconfig, a defconfig) is
# made first, then the fragments are merged and olddefconfig fills in.
configure() {
	local out="$1" log="$2" baseconfig="$3" frags=() bad merge=()

	shift 3
	mkdir -p "$out"
	tree_fragment "$out/forkfix-tree.config"
	frags=("$@" "$out/forkfix-tree.config")
	[[ -f "$out/.config" ]] && cp -p "$out/.config" "$out/.config.prev"
	make_cmd "$out"
	merge=(env ARCH="$KARCH" CROSS_COMPILE="$CROSS" scripts/kconfig/merge_config.sh)
	if [[ "$baseconfig" == allnoconfig ]]; then
		(cd "$TREE_DIR" && "${merge[@]}" -n -O "$out" "${frags[@]}") >"$log" 2>&1 ||
			die "configuring the $ARCH_NAME kernel failed: merge_config.sh (log: $log)"
	else
		"${MAKE_CMD[@]}" "$baseconfig" >"$log" 2>&1 ||
			die "configuring the $ARCH_NAME kernel failed: make $baseconfig (log: $log)"
		(cd "$TREE_DIR" && "${merge[@]}" -m -O "$out" "$out/.config" "${frags[@]}") >>"$log" 2>&1 ||
			die "configuring the $ARCH_NAME kernel failed: merge_config.sh (log: $log)"
		"${MAKE_CMD[@]}" olddefconfig >>"$log" 2>&1 ||
			die "configuring the $ARCH_NAME kernel failed: make olddefconfig (log: $log)"
	fi
	# Keep the old time stamp when nothing changed: no needless relink.
	if [[ -f "$out/.config.prev" ]]; then
		cmp -s "$out/.config" "$out/.config.prev" && touch -r "$out/.config.prev" "$out/.config"
		rm -f "$out/.config.prev"
	fi
	[[ "${CONFIG_CHECK:-1}" == 1 ]] || return 0
	bad=$(check_options "$out/.config" "${frags[@]}") ||
		die "options not in .config as requested: $(tr '\n' ' ' <<<"$bad")(log: $log)"
}

# build_kernel OUT LOG [TARGET...]: make (default: the boot image).
build_kernel() {
	local out="$1" log="$2"
	shift 2

	make_cmd "$out"
	if ! "${MAKE_CMD[@]}" "${@:-$IMAGE_TARGET}" >"$log" 2>&1; then
		grep -a -E 'error|Error' "$log" | head -n 5 >&2 || true
		die "kernel build failed for $ARCH_NAME (log: $log)"
	fi
}

# peer_kernel DIR: configure and build the kernel of the suites we did not
# write (mm-selftests.sh, stress-ng.sh) for the current arch and work tree:
# Kconfig.fragment, qemu-<arch>.config, peer.config and peer-<arch>.config
# when there is one, in the build directory .build-peer-<arch>; config.log,
# config and build.log in DIR.  Sets PEER_OUT to the build directory.
peer_kernel() {
	local dir="$1" configs="$REPO_DIR/scripts/configs" frags=()

	PEER_OUT=$(build_dir "peer-$ARCH")
	frags=("$REPO_DIR/Kconfig.fragment" "$configs/qemu-$ARCH.config" "$configs/peer.config")
	[[ ! -f "$configs/peer-$ARCH.config" ]] || frags+=("$configs/peer-$ARCH.config")
	stage "config: allnoconfig + ${frags[*]##*/}"
	configure "$PEER_OUT" "$dir/config.log" allnoconfig "${frags[@]}"
	cp "$PEER_OUT/.config" "$dir/config"
	stage "build: make $IMAGE_TARGET in $PEER_OUT (a few minutes when cold; log: $dir/build.log)"
	build_kernel "$PEER_OUT" "$dir/build.log"
}

# make_initramfs OUT DEST PROGRAM: the static guest PROGRAM (scripts/guest)
# as /init, packed with the kernel's usr/gen_init_cpio into DEST.
make_initramfs() {
	local out="$1" dest="$2" prog="$3" list="$1/$3.list"

	mkdir -p "$out/guest"
	make -s -C "$REPO_DIR/scripts/guest" O="$out/guest" CROSS_COMPILE="$CROSS" \
		SUITE="$TREE_SUITE" "$prog" || die "cannot build scripts/guest/$prog for $ARCH_NAME"
	cat >"$list" <<EOT
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /tmp 01777 0 0
file /init $out/guest/$prog 0755 0 0
EOT
	[[ -x "$out/usr/gen_init_cpio" ]] || die "$out/usr/gen_init_cpio was not built"
	# A fixed time stamp: the same init gives the same initramfs.
	"$out/usr/gen_init_cpio" -t 1700000000 "$list" >"$dest.tmp" || die "gen_init_cpio failed"
	mv "$dest.tmp" "$dest"
}

# run_guest DIR WHAT QEMU_COMMAND...: run QEMU under the time limit TIMEOUT,
# console in DIR/console.log, QEMU's pid in DIR/qemu.pid; die if the guest
# hangs or QEMU fails.
run_guest() {
	local dir="$1" what="$2" rc=0

	shift 2
	rm -f "$dir/qemu.pid"
	timeout -k 10 "$TIMEOUT" "$@" -pidfile "$dir/qemu.pid" \
		</dev/null >"$dir/console.log" 2>&1 || rc=$?
	[[ $rc -ne 124 && $rc -ne 137 ]] ||
		die "the $what guest hung: no power-off within ${TIMEOUT}s (console: $dir/console.log)"
	[[ $rc -eq 0 ]] || die "QEMU failed for $what with status $rc (console: $dir/console.log)"
}

# qemu_alive PIDFILE: is the QEMU of that pid file still running?
qemu_alive() {
	local pid

	[[ -f "$1" ]] || return 1
	pid=$(<"$1")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	[[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == qemu-system-* ]]
}
