# The Debian packages tree 6.12.y is built on, as pinned: written by
# scripts/repin.sh, read by scripts/lib/trees.sh.  One "KEY VALUE..." a line.
version 6.12.118-1~deb12u1
source-sha256 896aff3b39299fa0dd36fef4f5db56ab189182e39abbbb1227dafdc7fcfe3fc3
base-commit c6f566dd253bcad2a99f91c0b27480f5b21951d8
config-sha256 amd64 4f58707e3f8933f7f5c8efcdbdc38f44bc008293f931663ca4cccf2ee88d457d
config-sha256 arm64 4020f2c4d3bd613a29f8b5bef0c02a13f868a0c0c26cf19c36fe577c05e1f575
