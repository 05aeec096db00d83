#!/usr/bin/env bash
# The README's screenshots: pages rendered by miniprogram-simulate with the recorded API
# (tools/render-pages.js), photographed by headless Chromium at a phone's width.
set -euo pipefail
cd "$(dirname "$0")/.."
export SCREENSHOT_HTML="${SCREENSHOT_HTML:-/tmp/linli-screens}"
npx jest -c tools/screenshots.config.js >/dev/null
mkdir -p ../docs/images/miniprogram
for html in "$SCREENSHOT_HTML"/*.html; do
    name="$(basename "$html" .html)"
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=375,720 \
        --screenshot="../docs/images/miniprogram/$name.png" "file://$html" 2>/dev/null
done
ls ../docs/images/miniprogram
