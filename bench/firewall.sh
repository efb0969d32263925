#!/usr/bin/env bash
# bench/firewall.sh: preflight's firewall.ports check against the firewall-cmd commands an
# operator runs for the same answer (zone of the interface, then each port, runtime and
# permanent), on the same host in the same run.
#
# It builds a throwaway namespace with a cluster interface, a private D-Bus system bus and
# a real firewalld (with a private copy of /etc/firewalld), runs hyperfine inside it, and
# removes everything. Needs root, iproute2, dbus, firewalld, hyperfine (make deps).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
[ "$(id -u)" = 0 ] || { echo "bench/firewall.sh: needs root (network namespace)" >&2; exit 2; }
for c in ip dbus-daemon firewalld firewall-cmd hyperfine; do
  command -v "$c" >/dev/null || { echo "bench/firewall.sh: $c missing (run: make deps)" >&2; exit 2; }
done
make build >/dev/null

ns="cdfwbench-$$"; dir=$(mktemp -d); pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

cluster_ns "$ns"

sed -e "s#<listen>unix:path=/run/dbus/system_bus_socket</listen>#<listen>unix:path=$dir/bus</listen>#" \
    -e "s#<pidfile>/run/dbus/pid</pidfile>#<pidfile>$dir/bus.pid</pidfile>#" \
    -e "s#<user>messagebus</user>##" -e "s#<syslog/>##" -e "s#<fork/>##" \
    -e "s#<standard_system_servicedirs/>#<servicedir>$dir/services</servicedir>#" \
    -e "s#<includedir>system.d</includedir>#<includedir>/usr/share/dbus-1/system.d</includedir>#" \
    /usr/share/dbus-1/system.conf > "$dir/bus.conf"
mkdir "$dir/services"
ip netns exec "$ns" dbus-daemon --config-file="$dir/bus.conf" --nofork 2>/dev/null & pids+=($!)
for _ in $(seq 50); do [ -S "$dir/bus" ] && break; sleep 0.1; done
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/bus"
cp -a /etc/firewalld "$dir/etc"
ip netns exec "$ns" setpriv --bounding-set=-sys_time firewalld --nofork --nopid --system-config "$dir/etc" \
  --log-target file --log-file "$dir/firewalld.log" & pids+=($!)
for _ in $(seq 100); do [ "$(ip netns exec "$ns" firewall-cmd --state 2>/dev/null)" = running ] && break; sleep 0.2; done
# the cluster's ports open at runtime and permanently, as after `fix firewall`
for p in 45564/udp 4000-4100/tcp 8009/tcp; do
  ip netns exec "$ns" firewall-cmd -q --add-port=$p
  ip netns exec "$ns" firewall-cmd -q --permanent --add-port=$p
done

cat > "$dir/manual.sh" <<'SH'
zone=$(firewall-cmd --get-zone-of-interface=cl0 2>/dev/null || firewall-cmd --get-default-zone)
for p in 45564/udp 4000-4100/tcp 8009/tcp; do
  firewall-cmd --zone="$zone" --query-port=$p
  firewall-cmd --permanent --zone="$zone" --query-port=$p
done
SH
skip=link.cluster,route.multicast,route.persistent,sysctl.rp_filter,hosts.hostname,hosts.peers,ntp.sync,ports.receiver,firewall.igmp
bin=$(pwd)/clusterdoctor

# check_ms: the fastest of five runs of firewall.ports' own duration, as preflight reports it.
check_ms() {
  for _ in 1 2 3 4 5; do
    ip netns exec "$ns" "$bin" preflight -o json --iface cl0 --skip "$skip" |
      python3 -c 'import json,sys; print(next(c["durationMs"] for c in json.load(sys.stdin)["checks"] if c["id"]=="firewall.ports"))'
  done | sort -n | head -1
}

# run STATE: hyperfine of both, then the ratio and the check's own time.
run() {
  ip netns exec "$ns" hyperfine -N -i --warmup 2 --runs "${RUNS:-20}" --export-json "$dir/result-$1.json" \
    -n 'clusterdoctor firewall.ports' "$bin preflight -o json --iface cl0 --skip $skip" \
    -n 'firewall-cmd' "sh $dir/manual.sh"
  python3 - "$dir/result-$1.json" "$1" "$(check_ms)" <<'PY' 2>/dev/null || true
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
c, m = r["clusterdoctor firewall.ports"], r["firewall-cmd"]
print(f"\n{sys.argv[2]}: preflight {c['mean']*1000:.1f} ms (firewall.ports itself {sys.argv[3]} ms), firewall-cmd {m['mean']*1000:.0f} ms: {m['mean']/c['mean']:.0f}x faster\n")
PY
}

run fresh
ip netns exec "$ns" "$bin" preflight --iface cl0 --skip "$skip" -v || true
# A state that is not fresh: the interface moved to the trusted zone at runtime and
# permanently, a range and rich rules added, the runtime made permanent.
fc() { ip netns exec "$ns" firewall-cmd -q "$@"; }
fc --zone=trusted --change-interface=cl0
fc --permanent --zone=trusted --change-interface=cl0
fc --zone=trusted --add-port=5000-5100/tcp
for src in 10.99.0.2 10.99.0.3; do
  fc --zone=trusted --add-rich-rule="rule family=ipv4 source address=$src port port=4000 protocol=tcp accept"
done
fc --runtime-to-permanent
run "trusted zone, rich rules"
