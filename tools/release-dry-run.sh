#!/usr/bin/env bash
# Release dry run: `changeset version` in a temporary clone of the committed tree (HEAD), then
# prints the version bumps and the CHANGELOG.md heads it wrote. Your working tree is not touched.
#   bash tools/release-dry-run.sh        (pnpm release:dry-run)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q --no-hardlinks "$root" "$tmp/repo"
cd "$tmp/repo"
git -c user.name=dry-run -c user.email=dry-run@localhost checkout -q -b main 2>/dev/null || true
ln -s "$root/node_modules" node_modules
"$root/node_modules/.bin/changeset" status --verbose || true
"$root/node_modules/.bin/changeset" version
echo "--- versions"
for p in packages/*/package.json; do node -p "const m=require('./$p'); m.name+' '+m.version"; done
echo "--- changelogs"
for c in packages/*/CHANGELOG.md; do echo "== $c"; head -12 "$c"; done
echo "--- changesets consumed: $(git status --short .changeset | grep -c '^ D' || true)"
git status --short | grep -v '^ D .changeset' || true
