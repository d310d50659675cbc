#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (its Ubuntu base
# image): installs Node 24 (LTS) from NodeSource unless a Node 24 is already there, bubblewrap
# (the grader uses it for namespaces and seccomp when the container allows, which Gradescope's
# does not: no user namespaces there; see docs/security.md),
# then the grader's pinned tools with `npm ci` from the lock file in the zip. Nothing of a
# submission exists yet. AUTOGRADER_ROOT (default /autograder) is for trying it on a copy.
set -euo pipefail

ROOT="${AUTOGRADER_ROOT:-/autograder}"
NODE_MAJOR=24

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends ca-certificates curl bubblewrap
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" != "$NODE_MAJOR" ]; then
  curl -fsSL "https://deb.nodesource.com/setup_${NODE_MAJOR}.x" | bash -
  apt-get install -y --no-install-recommends nodejs
fi
echo "node $(node --version), npm $(npm --version)"

cd "$ROOT/source"
npm ci --no-audit --no-fund
