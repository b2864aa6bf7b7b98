#!/bin/sh
# Renders the two audit reports in a real browser (headless Chromium, as
# Debian ships it) and saves screenshots in docs/, so a reviewer can see
# what a user sees when they open report.html offline:
#   docs/leakage-audit-report.png  text test sets (pipelines/leakage-audit.yaml)
#   docs/image-audit-report.png    image test set with thumbnails (pipelines/image-text.yaml)
# Usage: scripts/screenshot-reports.sh   (needs chromium; apt-get install chromium)
set -eu
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { echo "chromium is not installed (apt-get install chromium)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go run ./cmd/corpusflow audit pipelines/leakage-audit.yaml --output "$out/text" --quiet
go run ./cmd/corpusflow run pipelines/image-text.yaml --output "$out/image" --quiet
shot() { # shot REPORT.html PNG HEIGHT
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--window-size=1280,"$3" --screenshot="$2" "file://$1" 2>/dev/null
	test -s "$2"
	echo "wrote $2"
}
shot "$out/text/audit/report.html" docs/leakage-audit-report.png 2000
shot "$out/image/audit/report.html" docs/image-audit-report.png 900
