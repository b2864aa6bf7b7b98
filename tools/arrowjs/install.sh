#!/bin/sh
# Installs the exact Arrow JS and codec versions of package-lock.json into
# tools/arrowjs/node_modules, for pack's interoperability test
# (go test ./pack -run ArrowJS). Needs node and npm.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
