#!/bin/sh
# Stop and disable the units on removal (not on an upgrade).
set -e
case "$1" in
  upgrade|1) exit 0 ;; # deb: upgrade; rpm: $1 is the number of versions left
esac
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now clusterdoctor-agent.service clusterdoctor-preflight.timer >/dev/null 2>&1 || true
fi
