#!/usr/bin/env bash
# Stages a pnpm-lock.yaml that matches the *committed* manifests plus the root package.json of the
# working tree, without touching other people's uncommitted manifests or the working-tree
# lockfile (several engineers share one working tree). Used before `git commit`.
set -euo pipefail
cd "$(dirname "$0")/.."
wt=${LOCK_WORKTREE:-/tmp/mlstm-lock-wt}
[ -d "$wt" ] || git worktree add --detach "$wt" HEAD >/dev/null
git -C "$wt" checkout -q -f --detach "$(git rev-parse HEAD)"
cp package.json "$wt/package.json"
for f in "$@"; do cp "$f" "$wt/$f"; done
(cd "$wt" && pnpm install --lockfile-only --silent >/dev/null && pnpm install --frozen-lockfile --offline --silent >/dev/null)
git update-index --cacheinfo "100644,$(git hash-object -w "$wt/pnpm-lock.yaml"),pnpm-lock.yaml"
echo "staged pnpm-lock.yaml for HEAD's manifests + package.json $*"
