package tomcat

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// ReceiverCheck is tomcat.receiver: the address Tomcat's NioReceiver binds and advertises
// is this host's address on the cluster interface (address="auto" resolved exactly as
// Java's InetAddress.getLocalHost(), as hosts.hostname does), its port range
// (port .. port+autoBind-1) leaves every instance of this host a port whatever order they
// start in, and a running Tomcat
// really bound it there (the kernel's socket table says where).
type ReceiverCheck struct {
	Found *Found
	Iface string
}

// ID implements probes.Probe.
func (ReceiverCheck) ID() string { return "tomcat.receiver" }

// Timeout implements probes.Probe: name resolution may ask DNS.
func (ReceiverCheck) Timeout() time.Duration { return 4 * time.Second }

// DependsOn implements probes.Dependent.
func (ReceiverCheck) DependsOn() []string { return []string{"tomcat.cluster"} }

// Run implements probes.Probe.
func (p ReceiverCheck) Run(ctx context.Context, env *probes.Env) probes.Result {
	if p.Found == nil || len(p.Found.Instances) == 0 {
		return noTomcat(p.ID(), p.Found)
	}
	if r := receiverCollision(p.Found); r != nil {
		return *r
	}
	local, err := env.InterfaceAddrs()
	if err != nil {
		return probes.UnknownResult(p.ID(), err.Error())
	}
	res, err := resolve.New(env)
	if err != nil {
		return probes.UnknownResult(p.ID(), err.Error())
	}
	return merge(p.ID(), each(p.ID(), p.Found, func(in *Instance) probes.Result {
		return p.judge(ctx, env, in, res, local, sharesRange(p.Found, in))
	}))
}

// judge checks one instance; shared says another instance's Receiver range overlaps its
// own, so a port past the configured one is autoBind doing its job.
func (p ReceiverCheck) judge(ctx context.Context, env *probes.Env, in *Instance, res *resolve.Resolver, local []probes.IfaceAddr, shared bool) probes.Result {
	const id = "tomcat.receiver"
	c, _ := in.Cluster()
	r := receiverOf(in, c)
	where := in.pos(r.El)
	ev := map[string]any{"base": in.Base, "address": r.Address, "ports": fmt.Sprintf("%d-%d", r.Port, r.Last()), "file": where}
	if len(r.Problems) > 0 {
		return probes.WarnResult(id, fmt.Sprintf("%s: %s", in.Label(), r.Problems[0])).With(strings.Join(r.Problems, "; "), "write a number", ev)
	}
	addr, how, err := receiverAddress(ctx, env, res, r.Address)
	if err != nil {
		return probes.FailResult(id, fmt.Sprintf("%s: Receiver address %q at %s does not resolve: %v", in.Label(), r.Address, where, err)).
			With("Tomcat logs \"Failed bind replication listener\" and the cluster does not start", "set Receiver address to this host's cluster address", ev)
	}
	ev["resolved"] = addr.String()
	bound := in.receiverSocket(ctx, r)
	if bound.IsValid() {
		ev["bound"] = bound.String()
		if bound.Addr() != addr && !bound.Addr().IsUnspecified() {
			// the running JVM resolved its address when it started; that is what peers see now
			how = fmt.Sprintf("bound by the running Tomcat, which resolved it at start; %s gives %s today, after a restart", how, addr)
			addr = bound.Addr()
		}
	}
	holder := probes.HolderOf(local, addr)
	want := firstV4(local, p.Iface)
	fix := fmt.Sprintf("set address=\"%s\" on the <Receiver> at %s", orWord(want, "THIS-HOSTS-CLUSTER-ADDRESS"), where)
	if r.Address == "auto" {
		fix += fmt.Sprintf(", or map the host name to %s in /etc/hosts", orWord(want, "the cluster address"))
	}
	switch {
	case addr.IsLoopback():
		return probes.FailResult(id, fmt.Sprintf("%s: the Receiver binds and advertises loopback %s (%s): no peer can replicate to this node", in.Label(), addr, how)).
			With("Tomcat logs \"Receiver Server Socket bound to:[/"+addr.String()+":"+fmt.Sprint(r.Port)+"]\" and every member's heartbeat carries that address", fix, ev)
	case holder == "":
		return probes.FailResult(id, fmt.Sprintf("%s: the Receiver address %s (%s) is not held by any interface of this host", in.Label(), addr, how)).
			With("Tomcat cannot bind it (\"Cannot assign requested address\") and the cluster does not start", fix, ev)
	case p.Iface != "" && holder != p.Iface:
		ev["holder"] = holder
		return probes.WarnResult(id, fmt.Sprintf("%s: the Receiver binds %s on %s, not on the cluster interface %s (%s)", in.Label(), addr, holder, p.Iface, how)).
			With("peers must reach "+addr.String()+" for replication; fine only if that network is the cluster's", fix, ev)
	}
	if bound.IsValid() {
		if int(bound.Port()) != r.Port && shared {
			return probes.PassResult(id, fmt.Sprintf("%s: the Receiver is bound to %s on %s (%s; autoBind moved it past another instance's, and heartbeats advertise it)", in.Label(), bound, holder, how)).With("", "", ev)
		}
		if int(bound.Port()) != r.Port {
			return probes.WarnResult(id, fmt.Sprintf("%s: the Receiver is bound to %s, not port %d: autoBind moved it past a port in use", in.Label(), bound, r.Port)).
				With("peers learn the port from heartbeats, but a firewall opened only for the configured port blocks it", "free port "+fmt.Sprint(r.Port)+" or give this instance its own Receiver port", ev)
		}
		return probes.PassResult(id, fmt.Sprintf("%s: the Receiver is bound to %s on %s (%s)", in.Label(), bound, holder, how)).With("", "", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("%s: the Receiver will bind %s:%d-%d on %s (%s)", in.Label(), addr, r.Port, r.Last(), holder, how)).With("", "", ev)
}

// receiverAddress resolves a Receiver address as ReceiverBase.getBind does: "auto" is
// InetAddress.getLocalHost(), anything else InetAddress.getByName().
func receiverAddress(ctx context.Context, env *probes.Env, res *resolve.Resolver, address string) (netip.Addr, string, error) {
	if a, err := netip.ParseAddr(address); err == nil {
		return a.Unmap(), "address=\"" + address + "\"", nil
	}
	if address == "auto" {
		name, err := env.Hostname()
		if err != nil {
			return netip.Addr{}, "", err
		}
		ans, err := res.LocalHost(ctx, name)
		if err != nil {
			return netip.Addr{}, "", fmt.Errorf("host name %s: %w", name, err)
		}
		return ans.First(), fmt.Sprintf("address=\"auto\": getLocalHost() of host name %s", name), nil
	}
	ans, err := res.Lookup(ctx, address)
	if err != nil {
		return netip.Addr{}, "", err
	}
	return ans.First(), fmt.Sprintf("address=%q resolved", address), nil
}

// receiverSocket finds the running instance's listening socket in the receiver range.
func (in *Instance) receiverSocket(ctx context.Context, r receiver) netip.AddrPort {
	socks, err := in.Listening(ctx)
	if err != nil {
		return netip.AddrPort{}
	}
	for _, s := range socks {
		if s.Port >= r.Port && s.Port <= r.Last() {
			return netip.AddrPortFrom(s.Addr, uint16(s.Port))
		}
	}
	return netip.AddrPort{}
}

func firstV4(local []probes.IfaceAddr, iface string) netip.Addr {
	for _, a := range local {
		if a.Iface == iface && a.Prefix.Addr().Is4() {
			return a.Prefix.Addr()
		}
	}
	return netip.Addr{}
}

func orWord(a netip.Addr, word string) string {
	if a.IsValid() {
		return a.String()
	}
	return word
}
