#!/bin/sh
# Runs the test suite from a fresh clone of this repository's current commit in a new temporary
# folder ($TMPDIR, else /tmp), to check that no test depends on where the repository lies (its
# path, the folder above it, or a temporary folder sharing a tree with it).
#
#   sh scripts/test_from_clone.sh                 # deno task test in the clone
#   sh scripts/test_from_clone.sh deno test -A tests/runtime/run_test.ts   # any command instead
#   TMPDIR="/tmp/with space" sh scripts/test_from_clone.sh   # a path that URLs must escape
#
# Only committed files are cloned: uncommitted changes are not tested (a line says so). The
# clone is removed afterwards unless KEEP_CLONE=1; the command's exit status is the script's.
set -eu

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse HEAD)
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=normal)" ]; then
  printf 'test_from_clone: uncommitted changes in %s are not tested (only commit %s is)\n' \
    "$repo" "$commit" >&2
fi

parent=$(mktemp -d "${TMPDIR:-/tmp}/gossamer-clone-XXXXXX")
clone="$parent/gossamer"
cleanup() {
  if [ "${KEEP_CLONE:-0}" = 1 ]; then
    printf 'test_from_clone: the clone stays in %s\n' "$clone" >&2
  else
    rm -rf "$parent"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

git clone --quiet --no-checkout "$repo" "$clone"
git -C "$clone" checkout --quiet --detach "$commit"
printf 'test_from_clone: testing commit %s in %s\n' "$commit" "$clone" >&2

cd "$clone"
status=0
if [ "$#" -eq 0 ]; then
  deno task test || status=$?
else
  "$@" || status=$?
fi
exit "$status"
