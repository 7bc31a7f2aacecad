#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build what the series touches with Debian's own kernel configurations
# (linux-config-X.Y at the version of the base), on the pinned base and with
# the series, and compare the compiler's warnings: the compile proof, for
# those objects, of the options a distribution enables and our debug
# configuration does not.
set -euo pipefail

PROG=$(basename "$0")
# shellcheck source=scripts/lib/all.sh
source "$(cd "$(dirname "$0")" && pwd)/lib/all.sh"

usage() {
	cat <<EOT
Usage: $PROG [OPTIONS]

For each architecture, fetch Debian's package of kernel configurations of
the tree's base version (6.12.y: linux-config-6.12 from bookworm-security,
mainline: linux-config-7.3 from trixie-backports; the .deb of each
architecture is pinned by sha256 in scripts/lib/trees.sh and fetched through
a private apt configuration in the cache), then, for each configuration
asked for, on the pinned base (work tree pristine-debian) and with the
whole series (patched-debian):
  - make olddefconfig on Debian's file (the options our toolchain changes,
    such as a newer compiler's, are listed in the results);
  - make the objects the series touches (6.12.y: mm/ kernel/fork.o
    kernel/events/; mainline: also lib/kunit/), every one of them compiled
    again (ccache keeps that cheap) so that the log has all their warnings;
  - collect the compiler's warnings, without line numbers.
PASS when both build, every touched source file of those directories that
the configuration builds on the base is built with the series, and the
series adds no warning.  Prints one PASS/FAIL line per architecture and
configuration and "N passed, N failed".

Options:
      --tree TREE     tree to build (default: $DEFAULT_TREE; known: ${KNOWN_TREES[*]})
  -a, --arch LIST     architectures, comma separated, or all
                      (default: all = ${KNOWN_ARCHES[*]})
      --flavour LIST  Debian configurations, comma separated: "generic"
                      (<debarch>_none_<debarch>, what most users boot),
                      "all" (every configuration of the package: cloud,
                      rt, arm64-16k ...), or names such as amd64_rt_amd64
                      (default: generic)
  -r, --results DIR   results directory (default:
                      \$CACHE_DIR/results/debian-configs-<tree>-<time>)
  -j, --jobs N        make -j (default: $(nproc))
      --no-install    never run apt-get, only say what is missing
  -h, --help          show this help

Work trees and build directories: \$CACHE_DIR/work/<tree>/{pristine,patched}-debian
(CACHE_DIR=$CACHE_DIR); a second run of the same tree waits for the first.
EOT
}

# The touched sources under the targets (from the series' diff).
TOUCHED=()

# debconfig_dir: set CONFIG_DIR to the directory of the arch's Debian
# configurations (config.<name>.xz), unpacked in the cache.
debconfig_dir() {
	local sha

	sha=$(arch_pin "${TREE_DEBCONFIG_SHA256[@]}") || die "$TREE has no pinned $TREE_DEBCONFIG_PKG for $DEBARCH (scripts/pins/$TREE)"
	deb_unpacked "$TREE_DEBCONFIG_PKG" "$TREE_VERSION" "$DEBARCH" "$TREE_DEBCONFIG_SUITE" \
		"$TREE_DEBCONFIG_MIRROR" "$sha" \
		"the pin of $TREE is gone: run scripts/repin.sh --tree $TREE --version {newest}"
	CONFIG_DIR="$DEB_DIR/usr/src/$TREE_DEBCONFIG_PKG"
	compgen -G "$CONFIG_DIR/config.*.xz" >/dev/null ||
		die "no config.*.xz in $CONFIG_DIR ($TREE_DEBCONFIG_PKG for $DEBARCH)"
}

# flavours_of LIST: set FLAVOURS to the configuration names of LIST (see
# --flavour) for the arch; die on a name the package does not have.
flavours_of() {
	local list="$1" f n have=()

	for f in "$CONFIG_DIR"/config.*.xz; do
		f="${f##*/config.}"
		have+=("${f%.xz}")
	done
	FLAVOURS=()
	for f in ${list//,/ }; do
		case "$f" in
		generic) f="${DEBARCH}_none_$DEBARCH" ;;
		all) f="${have[*]}" ;;
		esac
		for n in $f; do
			[[ " ${have[*]} " == *" $n "* ]] ||
				die "$TREE_DEBCONFIG_PKG for $DEBARCH has no configuration '$n' (it has: ${have[*]})"
			[[ " ${FLAVOURS[*]} " == *" $n "* ]] || FLAVOURS+=("$n")
		done
	done
	[[ ${#FLAVOURS[@]} -gt 0 ]] || die "--flavour names no configuration"
}

# warnings LOG: the warnings of a build log (the compiler's, cc1's,
# objtool's), one a line, with the source path relative to the tree and no
# line or column, sorted.
warnings() {
	grep -a -E '^[^ :]+:([0-9]+(:[0-9]+)?:)? warning: ' "$1" |
		sed -E 's#^(\.\./)+##; s#^([^:]+):[0-9]+(:[0-9]+)?: #\1: #' | LC_ALL=C sort || true
}

built_word() {
	if [[ "$1" == 1 ]]; then echo builds; else echo FAILS; fi
}

# build_variant VARIANT CONFIG FLAVOUR DEST: configure and build the
# targets in the current work tree; logs and lists in DEST.  Sets BUILD_OK.
build_variant() {
	local variant="$1" config="$2" flavour="$3" dest="$4" out t

	out=$(build_dir "debian-$ARCH_NAME-$flavour")
	mkdir -p "$out" "$dest"
	# Nothing of an earlier run in the same results directory counts.
	for t in warnings objects diffconfig; do
		: >"$dest/$t-$variant.txt"
	done
	rm -f "$dest/build-$variant.log" "$dest/config-$variant" "$dest/diffconfig-$variant.txt"
	# A variant whose olddefconfig fails has built nothing and warned of
	# nothing: its lists exist, empty.
	: >"$dest/warnings-$variant.txt"
	: >"$dest/objects-$variant.txt"
	make_cmd "$out"
	xz -dc "$config" >"$out/.config" || die "cannot decompress $config"
	xz -dc "$config" >"$dest/config-debian" || die "cannot decompress $config"
	BUILD_OK=0
	if ! "${MAKE_CMD[@]}" olddefconfig >"$dest/olddefconfig-$variant.log" 2>&1; then
		log "make olddefconfig failed ($variant; log: $dest/olddefconfig-$variant.log)"
		return 0
	fi
	cp "$out/.config" "$dest/config-$variant"
	"$TREE_DIR/scripts/diffconfig" "$dest/config-debian" "$out/.config" >"$dest/diffconfig-$variant.txt" || true
	# Compile every object of the targets again: warnings of objects
	# an earlier run left in place would not be in this log.
	for t in "${TREE_DEBCONFIG_TARGETS[@]}"; do
		case "$t" in
		*/) [[ ! -d "$out/$t" ]] || find "$out/$t" -name '*.o' -delete ;;
		*) rm -f "$out/$t" ;;
		esac
	done
	if "${MAKE_CMD[@]}" "${TREE_DEBCONFIG_TARGETS[@]}" >"$dest/build-$variant.log" 2>&1; then
		BUILD_OK=1
	else
		grep -a -E 'error|Error' "$dest/build-$variant.log" | head -n 5 >&2 || true
		log "the build failed ($variant; log: $dest/build-$variant.log)"
	fi
	warnings "$dest/build-$variant.log" >"$dest/warnings-$variant.txt"
	# The objects of the touched sources, built or not.
	: >"$dest/objects-$variant.txt"
	for t in "${TOUCHED[@]}"; do
		[[ ! -f "$out/${t%.c}.o" ]] || printf '%s\n' "${t%.c}.o" >>"$dest/objects-$variant.txt"
	done
	LC_ALL=C sort -o "$dest/objects-$variant.txt" "$dest/objects-$variant.txt"
	return 0
}

main() {
	local opts flavours=generic results="" a f v t dir cfg start dest ok detail new entry
	local missing ndiff plan=() changed
	local -A built=()

	JOBS=$(nproc)
	ARCH_OPT=all
	opts=$(getopt -o ha:j:r: -l help,tree:,arch:,flavour:,results:,jobs:,no-install \
		-n "$PROG" -- "$@") || { usage >&2; exit 2; }
	eval set -- "$opts"
	while true; do
		case "$1" in
		--flavour) flavours="$2"; shift 2 ;;
		-r | --results) results="$2"; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) common_opt "$1" "${2:-}" || die "internal: option $1 not handled"; shift "$OPT_SHIFT" ;;
		esac
	done
	[[ $# -eq 0 ]] || die "unexpected argument: $1 (see --help)"
	common_opts_check
	[[ -n "$flavours" && "$flavours" =~ ^[A-Za-z0-9_,.-]+$ ]] ||
		die "--flavour takes names of configurations (generic, all, amd64_rt_amd64, ...), not '$flavours'"
	[[ -n "$TREE_DEBCONFIG_PKG" ]] || die "$TREE names no Debian configuration package"
	[[ ${#ARCHES[@]} -gt 0 ]] || parse_arches all
	for a in "${ARCHES[@]}"; do
		[[ "$a" != riscv-nommu ]] || die "Debian has no riscv-nommu configuration"
	done
	results="${results:-$CACHE_DIR/results/debian-configs-$TREE-$(date +%Y%m%d-%H%M%S)}"
	outside_repo "$results" "the results directory"
	ensure_packages_for base build debian-configs
	need_tools dpkg-deb xz

	# Every configuration first: a package or name that is missing
	# stops the run before any build.
	for a in "${ARCHES[@]}"; do
		arch_vars "$a"
		debconfig_dir
		flavours_of "$flavours"
		for f in "${FLAVOURS[@]}"; do
			plan+=("$a:$f:$CONFIG_DIR/config.$f.xz")
		done
	done
	log "configurations: $(printf '%s ' "${plan[@]%%:/*}")"
	mkdir -p "$results"

	# The series first: its diff names the touched sources.
	for v in patched pristine; do
		prepare_tree "$v" debian
		if [[ $v == patched ]]; then
			changed=$(git -C "$TREE_DIR" diff --name-only "$BASE_REF" HEAD -- '*.c') ||
				die "git diff of the series failed in $TREE_DIR"
			TOUCHED=()
			for f in $changed; do
				for t in "${TREE_DEBCONFIG_TARGETS[@]}"; do
					if [[ "$f" == "$t"* || "${f%.c}.o" == "$t" ]]; then
						TOUCHED+=("$f")
						break
					fi
				done
			done
			[[ ${#TOUCHED[@]} -gt 0 ]] ||
				die "the series touches no C file under ${TREE_DEBCONFIG_TARGETS[*]}: nothing to prove"
			printf '%s\n' "${TOUCHED[@]}" >"$results/touched.txt"
		fi
		for entry in "${plan[@]}"; do
			IFS=: read -r a f cfg <<<"$entry"
			arch_vars "$a"
			dest="$results/$a-$f"
			start=$SECONDS
			log "$TREE $v $a $f: olddefconfig and make ${TREE_DEBCONFIG_TARGETS[*]} (several minutes; log: $dest/build-$v.log)"
			build_variant "$v" "$cfg" "$f" "$dest"
			built[$v:$a:$f]=$BUILD_OK
			log "$TREE $v $a $f: $([[ $BUILD_OK == 1 ]] && echo built || echo FAILED), $(wc -l <"$dest/warnings-$v.txt") warnings, $(elapsed "$start")"
		done
	done

	for entry in "${plan[@]}"; do
		IFS=: read -r a f cfg <<<"$entry"
		dest="$results/$a-$f"
		LC_ALL=C comm -13 "$dest/warnings-pristine.txt" "$dest/warnings-patched.txt" >"$dest/new-warnings.txt"
		new=$(count_lines "$dest/new-warnings.txt")
		# A touched object the base builds must be built with the series.
		missing=$(LC_ALL=C comm -23 "$dest/objects-pristine.txt" "$dest/objects-patched.txt" | tr '\n' ' ')
		# No diffconfig when olddefconfig itself failed.
		ndiff=none
		[[ ! -e "$dest/diffconfig-pristine.txt" ]] || ndiff=$(count_lines "$dest/diffconfig-pristine.txt")
		ok=1
		[[ ${built[pristine:$a:$f]} == 1 && ${built[patched:$a:$f]} == 1 && $new -eq 0 && -z "$missing" ]] && ok=0
		detail="base $(built_word "${built[pristine:$a:$f]}"), series $(built_word "${built[patched:$a:$f]}");"
		detail+=" warnings base $(count_lines "$dest/warnings-pristine.txt"), series $(count_lines "$dest/warnings-patched.txt"), new $new;"
		detail+=" touched objects built: base $(count_lines "$dest/objects-pristine.txt"), series $(count_lines "$dest/objects-patched.txt") of ${#TOUCHED[@]}${missing:+, missing with the series: $missing};"
		detail+=" $ndiff options changed by olddefconfig"
		[[ $new -eq 0 ]] || sed 's/^/    new: /' "$dest/new-warnings.txt" >&2
		report "$TREE $a $f: ${TREE_DEBCONFIG_TARGETS[*]} with Debian's configuration" "$ok" "$detail"
	done
	printf '%s\n' "results: $results" >&2
	totals
}

main "$@"; exit $?
