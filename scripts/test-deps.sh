#!/usr/bin/env bash
# Installs what the tests need beyond Go, so that no test has to skip because
# a tool is missing: the Node packages of every tools/*/package.json (Arrow JS
# interop check), Debian's kcat (an independent Kafka client), Debian's
# docker-compose (validates docker-compose.yml; `config` needs no engine),
# Debian's python3-torch (the trainer's parity check against PyTorch) and
# Debian's libopenblas-dev with a C compiler (the trainer's `-tags openblas`
# build, the one that meets the speed target, links it through cgo).
# Idempotent: already-installed pieces are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

for pkg in tools/*/package.json; do
  [ -e "$pkg" ] || continue
  dir=$(dirname "$pkg")
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "test-deps: npm ci in $dir" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules"
  fi
done

need_apt=()
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
command -v docker-compose >/dev/null 2>&1 || need_apt+=(docker-compose)
# The trainer's PyTorch parity test runs Debian's torch (PyPI is not needed).
/usr/bin/python3 -c "import torch, numpy" >/dev/null 2>&1 || need_apt+=(python3-torch python3-numpy)
# scripts/test.sh also tests the trainer built with -tags openblas (cgo).
dpkg-query -W -f='${Status}' libopenblas-dev 2>/dev/null | grep -q 'install ok installed' || need_apt+=(libopenblas-dev)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test-deps: apt-get install ${need_apt[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
