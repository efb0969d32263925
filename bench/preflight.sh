#!/usr/bin/env bash
# bench/preflight.sh: wall time of a full `clusterdoctor preflight` against the shell
# commands an operator runs by hand for the same facts (ip route get, ip addr, getent,
# chronyc tracking, cat /proc/sys/..., ss), on the same host in the same run.
#
# It builds a throwaway namespace with a cluster interface, the multicast route and a real
# chronyd (-x: never touches the clock), runs hyperfine inside it, and removes everything.
# Then it starts a real Tomcat 10.1 there (the lab's cluster block) and times preflight with
# that Tomcat to discover and read against preflight without one: the difference is what
# discovery, parsing and the tomcat.* checks cost.
# Needs root, iproute2, chrony, hyperfine, Tomcat 10 (make deps installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
[ "$(id -u)" = 0 ] || { echo "bench/preflight.sh: needs root (network namespace)" >&2; exit 2; }
for c in ip chronyd chronyc hyperfine; do
  command -v "$c" >/dev/null || { echo "bench/preflight.sh: $c missing (run: make deps)" >&2; exit 2; }
done
[ -x ./clusterdoctor ] || make build >/dev/null

ns="cdbench-$$"; dir=$(mktemp -d); chrony_pid=""; tomcat_pid=""
cleanup() {
  [ -n "$chrony_pid" ] && kill "$chrony_pid" 2>/dev/null && wait "$chrony_pid" 2>/dev/null || true
  [ -n "$tomcat_pid" ] && kill "$tomcat_pid" 2>/dev/null && wait "$tomcat_pid" 2>/dev/null || true
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

# Tomcat: discovery (the running JVM in /proc), server.xml, catalina.properties,
# setenv.sh, the jars and the applications, and the nine tomcat.* checks.
templates=/opt/clusterdoctor-test/tomcat10/usr/share/tomcat10/etc
if [ ! -f "$templates/server.xml" ] || [ ! -x /usr/share/tomcat10/bin/catalina.sh ]; then
  echo "bench/preflight.sh: Tomcat 10 not installed (run: make deps); the Tomcat figure is left out" >&2
  exit 0
fi
base=$dir/tomcat
mkdir -p "$base"/{conf,logs,temp,work,bin,webapps/ROOT/WEB-INF}
for f in web.xml context.xml catalina.properties logging.properties tomcat-users.xml jaspic-providers.xml; do cp "$templates/$f" "$base/conf/"; done
printf '<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0"><distributable/></web-app>\n' > "$base/webapps/ROOT/WEB-INF/web.xml"
cat > "$base/conf/server.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Service name="Catalina">
    <Connector port="8080" protocol="HTTP/1.1" connectionTimeout="20000"/>
    <Connector protocol="AJP/1.3" address="10.99.0.1" port="8009" secretRequired="false"/>
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="tomcat1">
      <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" channelSendOptions="8">
        <Manager className="org.apache.catalina.ha.session.DeltaManager" expireSessionsOnShutdown="false" notifyListenersOnReplication="true"/>
        <Channel className="org.apache.catalina.tribes.group.GroupChannel">
          <Membership className="org.apache.catalina.tribes.membership.McastService" address="228.0.0.4" port="45564" frequency="500" dropTime="3000"/>
          <Receiver className="org.apache.catalina.tribes.transport.nio.NioReceiver" address="auto" port="4000" autoBind="100" selectorTimeout="5000" maxThreads="6"/>
          <Sender className="org.apache.catalina.tribes.transport.ReplicationTransmitter">
            <Transport className="org.apache.catalina.tribes.transport.nio.PooledParallelSender"/>
          </Sender>
          <Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"/>
          <Interceptor className="org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor"/>
        </Channel>
        <Valve className="org.apache.catalina.ha.tcp.ReplicationValve" filter=""/>
        <Valve className="org.apache.catalina.ha.session.JvmRouteBinderValve"/>
        <ClusterListener className="org.apache.catalina.ha.session.ClusterSessionListener"/>
      </Cluster>
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
XML
ip netns exec "$ns" unshare --mount --uts sh -ec "
  mount --bind $dir/hosts /etc/hosts
  hostname was1
  CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE=$base JAVA_OPTS='-Xmx128m -XX:TieredStopAtLevel=1' exec /usr/share/tomcat10/bin/catalina.sh run
" >"$base/logs/catalina.out" 2>&1 &
tomcat_pid=$!
for _ in $(seq 600); do grep -q 'Server startup in' "$base/logs/catalina.out" && break; sleep 0.1; done
grep -q 'Server startup in' "$base/logs/catalina.out" || { echo "bench/preflight.sh: Tomcat did not start" >&2; tail "$base/logs/catalina.out" >&2; exit 1; }
tomcat_ids=tomcat.cluster,tomcat.classes,tomcat.distributable,tomcat.jvmroute,tomcat.receiver,tomcat.membership,tomcat.ajp,tomcat.deployer,tomcat.logs,tomcat.members
bench_in_ns() { # bench_in_ns NAME JSON [ARGS]
  ip netns exec "$ns" unshare --mount --uts sh -ec "
    mount --bind $dir/hosts /etc/hosts
    mount --bind $dir/chrony.conf /etc/chrony/chrony.conf
    hostname was1
    hyperfine -N -i --warmup 5 --runs ${RUNS:-100} --export-json $2 -n '$1' '$bin preflight -o json --peer was2 ${3:-}'
  "
}
bench_in_ns "preflight, a running Tomcat found and read, tomcat.* skipped" "$dir/read.json" "--skip $tomcat_ids"
# tomcat.members listens for two heartbeat periods (about 1.3 s at Tomcat's 500 ms) by
# design: timed apart, so the nine configuration checks' cost stays visible.
bench_in_ns "preflight, a running Tomcat, every check but tomcat.members" "$dir/with.json" "--skip tomcat.members"
kill "$tomcat_pid"; wait "$tomcat_pid" 2>/dev/null || true; tomcat_pid=""
bench_in_ns "preflight, no Tomcat on the host" "$dir/without.json"
python3 - "$dir/without.json" "$dir/read.json" "$dir/with.json" <<'PY' 2>/dev/null || true
import json, sys
wo, rd, w = (json.load(open(p))["results"][0]["mean"] * 1000 for p in sys.argv[1:4])
print(f"\nno Tomcat {wo:.1f} ms; a Tomcat found and read {rd:.1f} ms: discovery and parsing add {rd-wo:.1f} ms (target: at most 10 ms);"
      f" with the nine tomcat.* configuration checks {w:.1f} ms (+{w-rd:.1f} ms); tomcat.members listens 2 heartbeat periods on top")
PY
