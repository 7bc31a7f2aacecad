# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Every library, in the order they need each other; what the entry scripts
# source.  Sourcing defines functions and tables only, nothing runs.

_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/common.sh
source "$_lib/common.sh"
# shellcheck source=scripts/lib/trees.sh
source "$_lib/trees.sh"
# shellcheck source=scripts/lib/arches.sh
source "$_lib/arches.sh"
# shellcheck source=scripts/lib/packages.sh
source "$_lib/packages.sh"
# shellcheck source=scripts/lib/base.sh
source "$_lib/base.sh"
# shellcheck source=scripts/lib/worktree.sh
source "$_lib/worktree.sh"
# shellcheck source=scripts/lib/kernel.sh
source "$_lib/kernel.sh"
# shellcheck source=scripts/lib/check.sh
source "$_lib/check.sh"
# shellcheck disable=SC2034 # used by the entry scripts
LIB="$_lib"
unset _lib
