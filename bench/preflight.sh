#!/usr/bin/env bash
# bench/preflight.sh: wall time of a full `clusterdoctor preflight` against the shell
# commands an operator runs by hand for the same facts (ip route get, ip addr, getent,
# chronyc tracking, cat /proc/sys/..., ss), on the same host in the same run.
#
# It builds a throwaway namespace with a cluster interface, the multicast route and a real
# chronyd (-x: never touches the clock), runs hyperfine inside it, and removes everything.
# Needs root, iproute2, chrony, hyperfine (make deps installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
[ "$(id -u)" = 0 ] || { echo "bench/preflight.sh: needs root (network namespace)" >&2; exit 2; }
for c in ip chronyd chronyc hyperfine; do
  command -v "$c" >/dev/null || { echo "bench/preflight.sh: $c missing (run: make deps)" >&2; exit 2; }
done
[ -x ./clusterdoctor ] || make build >/dev/null

ns="cdbench-$$"; dir=$(mktemp -d); chrony_pid=""
cleanup() {
  [ -n "$chrony_pid" ] && kill "$chrony_pid" 2>/dev/null && wait "$chrony_pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

cluster_ns "$ns"
chmod 700 "$dir"
cat > "$dir/chrony.conf" <<CONF
local stratum 8
driftfile $dir/drift
pidfile $dir/chronyd.pid
bindcmdaddress $dir/chronyd.sock
cmdport 0
port 0
CONF
printf '127.0.0.1 localhost\n10.99.0.1 was1\n' > "$dir/hosts"
ip netns exec "$ns" chronyd -x -n -u root -f "$dir/chrony.conf" >"$dir/chronyd.log" 2>&1 &
chrony_pid=$!
for _ in $(seq 50); do [ -S "$dir/chronyd.sock" ] && break; sleep 0.1; done

# What an operator types for the same facts preflight gathers.
cat > "$dir/manual.sh" <<SH
ip -br addr show dev cl0
ip route get 228.0.0.4
getent ahostsv4 \$(hostname)
getent ahostsv4 was2 || true
cat /proc/sys/net/ipv4/conf/all/rp_filter /proc/sys/net/ipv4/conf/cl0/rp_filter
chronyc -h $dir/chronyd.sock tracking
ss -ltnp 'sport >= :4000 and sport <= :4100'
grep -rs 224.0.0.0 /etc/network/interfaces /etc/network/interfaces.d /etc/sysconfig/network-scripts /etc/NetworkManager/system-connections /etc/netplan /etc/systemd/network || true
SH
chmod +x "$dir/manual.sh"

bin=$(pwd)/clusterdoctor
ip netns exec "$ns" unshare --mount --uts sh -ec "
  mount --bind $dir/hosts /etc/hosts
  mount --bind $dir/chrony.conf /etc/chrony/chrony.conf
  hostname was1
  hyperfine -N -i --warmup 5 --runs ${RUNS:-100} --export-json $dir/result.json \
    -n 'clusterdoctor preflight' '$bin preflight -o json --iface cl0 --peer was2' \
    -n 'manual commands' 'sh $dir/manual.sh'
  echo
  echo 'one run of preflight in the bench host:'
  $bin preflight --iface cl0 --peer was2 || true
"
python3 - "$dir/result.json" <<'PY' 2>/dev/null || true
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
p, m = r["clusterdoctor preflight"], r["manual commands"]
print(f"\npreflight {p['mean']*1000:.1f} ms, manual {m['mean']*1000:.1f} ms: preflight takes {p['mean']/m['mean']:.2f}x the manual commands' time")
PY
