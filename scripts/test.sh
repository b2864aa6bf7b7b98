#!/usr/bin/env bash
# The test command from the README: installs test tools, then runs every Go
# test, the engine's tests again under the race detector, and the trainer's
# gradient, PyTorch parity, learning and resume tests again built with
# -tags openblas (cgo OpenBLAS: the build to train with, which meets the speed
# target; its multiplies are not the pure-Go default's). It fails if OpenBLAS
# cannot be linked.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-deps.sh
# Every test runs (no -short) and none may skip: a skipped test fails the
# run, so a missing tool or file cannot pass as success.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! go test -count=1 -v ./... >"$log" 2>&1; then
	grep -v -E '^(=== (RUN|PAUSE|CONT|NAME)|\s*--- PASS)' "$log"
	exit 1
fi
grep -E '^(ok|\?) ' "$log"
if grep -E -- '--- SKIP' "$log"; then
	echo "tests were skipped (above): every test must run" >&2
	exit 1
fi
go test -count=1 -race ./flow/...
CGO_ENABLED=1 go test -count=1 -tags openblas -run 'Grad|WholeModel|Overfit|TorchParity|ResumeIsExact|TrainWritesOutputsAndLearns|InitialLoss' ./trainer
