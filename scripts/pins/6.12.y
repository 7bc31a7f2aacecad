# The Debian packages tree 6.12.y is built on, as pinned: written by
# scripts/repin.sh, read by scripts/lib/trees.sh.  One "KEY VALUE..." a line.
version 6.12.117-1~deb12u1
source-sha256 e849faf31ca3555757f3a8877cb01af92122f744f75d1f3102734651c4e14703
base-commit b61b03774260e0fddea24e63f70af7d424f18cf2
config-sha256 amd64 9837dbdf866d58ff9cc64f106dbf0cbf16d1ea6e369b83c338d05e8860224b27
config-sha256 arm64 5642ad362614657f7393b3999a02d3f33325c13a15227333fe2ef0cdc29d74c8
