#!/bin/sh
# Tell systemd about the units; nothing is enabled or started (the operator decides:
# systemctl enable --now clusterdoctor-agent.service or clusterdoctor-preflight.timer).
set -e
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload || true
fi
