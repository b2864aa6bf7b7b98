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
go test -count=1 ./...
go test -count=1 -race ./flow/...
CGO_ENABLED=1 go test -count=1 -tags openblas -run 'Grad|WholeModel|Overfit|TorchParity|ResumeIsExact|TrainWritesOutputsAndLearns|InitialLoss' ./trainer
