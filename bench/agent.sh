#!/usr/bin/env bash
# bench/agent.sh: the agent's cost on a host. It runs `clusterdoctor agent --interval 30s`
# in a throwaway network namespace (a cluster interface with its multicast route), scrapes
# /metrics every 15 s as Prometheus would, and reports the agent's peak resident memory (the
# kernel's VmHWM, not samples), its most tasks (threads and children, for TasksMax=) and its
# CPU time over the window as a share of one core. Targets: under 30 MB and 0.5%.
# Then, from a second namespace on the cluster link, a flood of forged requests
# (bench/flood: every kind, spoofed sources, FLOOD datagrams at FLOOD_RATE per second), and
# the same figures under it: the growth of VmHWM and the CPU the flood costs.
# DURATION (seconds, default 150: five runs of the checks) sets the window.
# Needs root and iproute2 (make deps). Removes everything it made.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
[ "$(id -u)" = 0 ] || { echo "bench/agent.sh: needs root (network namespace)" >&2; exit 2; }
command -v ip >/dev/null || { echo "bench/agent.sh: ip missing (run: make deps)" >&2; exit 2; }
DURATION=${DURATION:-150}
make build >/dev/null

FLOOD=${FLOOD:-1000000}; FLOOD_RATE=${FLOOD_RATE:-60000}
ns="cdagentbench-$$"; fl="cdagentflood-$$"; pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip netns del "$fl" 2>/dev/null || true
}
trap cleanup EXIT

cluster_ns "$ns"
ip netns add "$fl"
ip -n "$ns" link set cl0-peer netns "$fl"
ip -n "$fl" addr add 10.99.0.3/24 dev cl0-peer
ip -n "$fl" link set cl0-peer up
go build -o "$(dirname "$(mktemp -u)")/cdflood-$$" ./bench/flood
flood="$(dirname "$(mktemp -u)")/cdflood-$$"
trap 'cleanup; rm -f "$flood"' EXIT

ip netns exec "$ns" ./clusterdoctor agent --iface cl0 --interval 30s\
  >/dev/null 2>&1 &
pid=$!
sleep 2
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$pid/status"; }
tasks() { awk '/^Threads/ {print $2}' "/proc/$pid/status"; }
start_cpu=$(cpu); start=$(date +%s.%N); most=0
for ((t = 0; t < DURATION; t += 15)); do
  ip netns exec "$ns" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9716; printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3 >/dev/null'
  n=$(tasks); [ "$n" -gt "$most" ] && most=$n
  sleep 15
done
peak=$(hwm)
end_cpu=$(cpu); end=$(date +%s.%N)
awk -v c=$((end_cpu - start_cpu)) -v hz="$ticks" -v s="$start" -v e="$end" -v kb="$peak" -v most="$most" 'BEGIN {
  cpu = c / hz / (e - s) * 100
  printf "agent over %.0f s at --interval 30s, scraped every 15 s:\n", e - s
  printf "  peak RSS (VmHWM) %.1f MB (target < 30 MB: %s)\n", kb / 1024, (kb / 1024 < 30 ? "ok" : "OVER")
  printf "  at most %d threads\n", most
  printf "  CPU %.3f%% of one core (target < 0.5%%: %s)\n", cpu, (cpu < 0.5 ? "ok" : "OVER")
}'

hwm0=$(hwm); c0=$(cpu); t0=$(date +%s.%N)
ip netns exec "$fl" "$flood" -to 10.99.0.1 -count "$FLOOD" -rate "$FLOOD_RATE"
c1=$(cpu); t1=$(date +%s.%N); hwm1=$(hwm)
awk -v c=$((c1 - c0)) -v hz="$ticks" -v s="$t0" -v e="$t1" -v a="$hwm0" -v b="$hwm1" -v n="$FLOOD" 'BEGIN {
  printf "under a flood of %d forged requests in %.1f s:\n", n, e - s
  printf "  peak RSS (VmHWM) %.1f MB, +%.1f MB (target < 5 MB)\n", b / 1024, (b - a) / 1024
  printf "  CPU %.0f%% of one core while it lasted\n", c / hz / (e - s) * 100
}'
