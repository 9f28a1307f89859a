#!/usr/bin/env bash
# Installs what the browser test (test/browser) needs: Debian's Chromium at /usr/bin/chromium,
# which playwright-core drives (no browser download). For CI images and fresh machines; the
# test skips without it, unless CI=true, where it fails.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  /usr/bin/chromium --headless --no-sandbox --version
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "no apt-get here: install Chromium so that /usr/bin/chromium runs it" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium
/usr/bin/chromium --headless --no-sandbox --version
