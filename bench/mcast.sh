#!/usr/bin/env bash
# bench/mcast.sh: mcast-test against iperf2 (and omping when it is on PATH) on the same
# namespace link, in the same run:
#   1. the highest multicast packet rate each tool carries at under 0.1% loss (100-byte
#      payloads, rates doubling from 25k pps, 2 s each; the receiver's count decides);
#   2. loss agreement: both tools through 5% random loss injected with nftables numgen;
#   3. time to a verdict: three hosts, each given the full host list (itself included, as
#      an inventory gives it), 200 samples per path at 10 ms;
#   4. network delay: mcast-test's unicast delay (kernel timestamps, the responder's own
#      time subtracted) beside ping -i 0.01's round trip, on the same link in the same run,
#      and ping run twice, whose ratio to itself is the noise any comparison has here.
# Needs root, iproute2, nftables, iperf, ping (make deps installs them). Touches nothing
# outside its four namespaces (three hosts on a bridge in a fourth).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/mcast.sh: needs root (network namespaces)" >&2; exit 2; }
for c in ip nft iperf ping; do command -v "$c" >/dev/null || { echo "bench/mcast.sh: $c missing (make deps)" >&2; exit 2; }; done
[ -x ./clusterdoctor ] || make build >/dev/null
bin=$(pwd)/clusterdoctor
a="cdb-a-$$"; b="cdb-b-$$"; c="cdb-c-$$"; sw="cdb-sw-$$"; out=$(mktemp -d)
cleanup() {
  for n in "$a" "$b" "$c" "$sw"; do
    for p in $(ip netns pids "$n" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
    ip netns del "$n" 2>/dev/null || true
  done
  rm -rf "$out"
}
trap cleanup EXIT
ip netns add "$sw"; ip -n "$sw" link add br0 type bridge; ip -n "$sw" link set br0 up
i=1
for n in "$a" "$b" "$c"; do
  ip netns add "$n"
  ip -n "$n" link add cl0 type veth peer name "p$i" netns "$sw"
  ip -n "$sw" link set "p$i" master br0 up
  ip -n "$n" addr add "10.99.0.$i/24" dev cl0
  ip -n "$n" link set lo up; ip -n "$n" link set cl0 up; ip -n "$n" route add 224.0.0.0/4 dev cl0
  i=$((i + 1))
done
A() { ip netns exec "$a" "$@"; }
B() { ip netns exec "$b" "$@"; }

# iperf2: server joined to the group in b, client in a; prints "lost total" of the final report.
iperf_run() { # pps
  local pps=$1
  B iperf -s -u -B 228.0.0.4 -p 45564 -l 100 -w 8M > "$out/is.txt" 2>&1 & local spid=$!   # asks as much as mcast-test; iperf2 uses SO_RCVBUF, capped by rmem_max
  sleep 0.3
  A iperf -c 228.0.0.4 -u -T 1 -p 45564 -l 100 -b $((pps * 100 * 8)) -t 2 > "$out/ic.txt" 2>&1 || true
  sleep 0.5; kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null || true
  grep -aEo '[0-9]+/ *[0-9]+ +\(' "$out/is.txt" | tail -1 | tr -d '( ' | tr '/' ' '
}
# mcast-test: --listen in b, --send in a.
cd_run() { # pps
  local pps=$1
  B "$bin" mcast-test --listen --iface cl0 --duration 3s -o json > "$out/cl.json" 2>/dev/null & local lpid=$!
  sleep 0.3
  A "$bin" mcast-test --send --iface cl0 --rate "$pps" --duration 2s --size 100 -o json > "$out/cs.json" 2>/dev/null || true
  wait "$lpid" 2>/dev/null || true
  python3 - "$out/cl.json" "$out/cs.json" <<'PY'
import json, sys
l, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
recv = sum(x["received"] for x in l.get("senders") or [])
sent = s["send"]["sent"]
print(sent - recv, sent)
PY
}
ladder() { # tool
  local best=0 pps=25000
  while [ $pps -le 1600000 ]; do
    read -r lost total < <("$1" $pps) || { lost=1; total=1; }
    local ok=$(python3 -c "print(1 if $total > 0 and $lost / $total < 0.001 and $total >= $pps * 2 * 0.9 else 0)")
    printf '  %-14s %8d pps: lost %d of %d\n' "$1" "$pps" "$lost" "$total" >&2
    [ "$ok" = 1 ] || break
    best=$pps; pps=$((pps * 2))
  done
  echo "$best"
}
echo "1. highest rate at < 0.1% loss (100-byte payloads, 2 s per step)"
ib=$(ladder iperf_run); cb=$(ladder cd_run)
echo "   iperf2: $ib pps   mcast-test: $cb pps"

echo "2. loss through 5% injected loss (nftables numgen on b's input), 20000 packets at 10k pps"
B nft add table inet cdbench
B nft add chain inet cdbench in '{ type filter hook input priority 0; }'
B nft add rule inet cdbench in meta l4proto udp numgen random mod 100 '<' 5 drop
read -r il it < <(iperf_run 10000); read -r cl ct < <(cd_run 10000)
echo "   iperf2: $(python3 -c "print(f'{$il/$it*100:.2f}%')")   mcast-test: $(python3 -c "print(f'{$cl/$ct*100:.2f}%')")"
B nft delete table inet cdbench

echo "3. time to a verdict: three hosts, each given all three, 200 samples per path at 10 ms"
hosts=(--peer 10.99.0.1 --peer 10.99.0.2 --peer 10.99.0.3)
start=$(date +%s.%N)
for n in a b c; do
  ip netns exec "${!n}" "$bin" mcast-test "${hosts[@]}" --iface cl0 --count 200 --interval 10ms -o json > "$out/mesh-$n.json" 2>/dev/null &
done
wait || true
end=$(date +%s.%N)
A ping -q -i 0.01 -c 200 10.99.0.2 > "$out/ping.txt"
A ping -q -i 0.01 -c 200 10.99.0.2 > "$out/ping2.txt"   # ping against itself: the noise floor
python3 - "$out" "$start" "$end" <<'PY'
import json, re, sys
out = sys.argv[1]
verdicts = []
for n in "abc":
    for p in json.load(open(f"{out}/mesh-{n}.json"))["peers"]:
        verdicts.append(p["verdict"])
print(f"   {float(sys.argv[3]) - float(sys.argv[2]):.2f} s for all three, verdicts {' '.join(verdicts)}")
p = next(p for p in json.load(open(f"{out}/mesh-a.json"))["peers"] if p["address"] == "10.99.0.2")
d, r = p["unicast"]["delayMs"], p["unicast"]["rttMs"]
def ping(f):
    m = re.search(r"= ([\d.]+)/([\d.]+)/", open(f"{out}/{f}").read())
    return float(m.group(1)), float(m.group(2))
(pmin, pavg), (qmin, qavg) = ping("ping.txt"), ping("ping2.txt")
print("4. network delay a -> b, ms (min / avg)")
print(f"   ping -i 0.01 (kernel echo):          {pmin:.3f} / {pavg:.3f}")
print(f"   the same ping again, right after:    {qmin:.3f} / {qavg:.3f}   ratio {qmin/pmin:.2f} / {qavg/pavg:.2f}")
print(f"   mcast-test delay (responder time out): {d['min']:.3f} / {d['avg']:.3f}   ratio {d['min']/pmin:.2f} / {d['avg']/pavg:.2f}")
print(f"   mcast-test round trip (with it):       {r['min']:.3f} / {r['avg']:.3f}")
PY
if command -v omping >/dev/null; then
  echo "5. omping is on PATH: compare its RTT by hand (omping -c 200 -i 0.01 10.99.0.1 10.99.0.2 10.99.0.3)"
else
  echo "5. omping is not on PATH (Debian 12 does not package it): no comparison with it"
fi
