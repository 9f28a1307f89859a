#!/usr/bin/env bash
# The TypeScript SDK's tests, as `./mvnw verify` runs them: installs the pinned npm packages
# (npm ci, only when the lock file changed) and runs `npm test` against the node jar given as $1.
# Without npm the tests are skipped with a warning, unless CI=true, where that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "npm is needed for the TypeScript SDK tests (CI=true: they are required)" >&2
    exit 1
  fi
  echo "[WARNING] npm not found: the TypeScript SDK tests are skipped" >&2
  exit 0
fi
export DS_NODE_JAR="${1:-$(pwd)/../../session-cluster/target/session-cluster.jar}"
if [ ! -f "$DS_NODE_JAR" ]; then
  echo "no node jar at $DS_NODE_JAR (build it first: ./mvnw -DskipTests package)" >&2
  exit 1
fi
stamp=node_modules/.installed-lock.json
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi
npm test
