#!/usr/bin/env bash
# Installs the system packages the test suite needs on Debian bookworm, as root:
# Mesa lavapipe 25 from bookworm-backports (Dawn rejects bookworm's 22.x) and Debian's Chromium
# (system browser for puppeteer, and its SwiftShader Vulkan driver as a fallback adapter).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
backports=/etc/apt/sources.list.d/bookworm-backports.sources
if [ ! -f "$backports" ]; then
  # the first stanza of the stock sources, with the suite swapped for backports
  awk 'BEGIN{RS=""; ORS="\n\n"} NR==1' /etc/apt/sources.list.d/debian.sources \
    | sed -E 's/^Suites:.*/Suites: bookworm-backports/' > "$backports"
fi
apt-get update -qq
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
apt-get install -y -qq chromium fonts-dejavu-core python3-skimage >/dev/null
