#!/usr/bin/env bash
# The test command from the README: installs test tools, then runs every Go
# test, and the engine's tests again under the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-deps.sh
go test -count=1 ./...
go test -count=1 -race ./flow/...
