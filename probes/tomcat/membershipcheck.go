package tomcat

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/reach"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// MembershipCheck is tomcat.membership: the membership service as Tomcat will run it.
// Multicast (McastService): a group in 224.0.0.0/4, no bind (with one, Tomcat cannot send on
// Linux), a TTL that lets heartbeats leave the host, a dropTime that outlasts a few lost
// heartbeats; the route for the group is route.multicast's.
// Static members: every member's host:port accepts TCP from here. Cloud: what it needs.
type MembershipCheck struct {
	Found *Found
	Iface string
}

// ID implements probes.Probe.
func (MembershipCheck) ID() string { return "tomcat.membership" }

// Timeout implements probes.Probe: static members are connected to in parallel.
func (MembershipCheck) Timeout() time.Duration { return memberDial + 2*time.Second }

// memberDial bounds one TCP attempt to a static member: a dropped SYN is told from a
// slow answer well before Tomcat's own 3 s connect timeout.
const memberDial = 2 * time.Second

// DependsOn implements probes.Dependent.
func (MembershipCheck) DependsOn() []string { return []string{"tomcat.cluster"} }

// Run implements probes.Probe.
func (p MembershipCheck) Run(ctx context.Context, env *probes.Env) probes.Result {
	if p.Found == nil || len(p.Found.Instances) == 0 {
		return noTomcat(p.ID(), p.Found)
	}
	return merge(p.ID(), each(p.ID(), p.Found, func(in *Instance) probes.Result { return p.judge(ctx, env, in) }))
}

func (p MembershipCheck) judge(ctx context.Context, env *probes.Env, in *Instance) probes.Result {
	const id = "tomcat.membership"
	c, _ := in.Cluster()
	m := membershipOf(in, c)
	where := in.pos(m.El)
	if m.El == nil {
		where = in.pos(c.El) + " (McastService by default)"
	}
	ev := map[string]any{"base": in.Base, "kind": m.Kind, "file": where}
	if len(m.Problems) > 0 {
		return probes.FailResult(id, fmt.Sprintf("%s: %s", in.Label(), m.Problems[0])).
			With(strings.Join(m.Problems, "; "), "correct the <Membership> attributes", ev)
	}
	switch {
	case m.Kind == "static":
		return p.judgeStatic(ctx, env, in, m, ev)
	case m.Kind == "multicast" && len(m.Static) > 0:
		return p.judgeBoth(ctx, env, in, c, m, where, ev)
	}
	switch m.Kind {
	case "cloud":
		ev["provider"] = m.Provider
		local, _ := env.InterfaceAddrs()
		environ := in.jvmEnviron()
		fails, warns := cloudDefects(in, m.Provider, environ)
		if strings.Contains(m.Provider, ".") && in.Home != "" {
			if cp := in.ClassPath(); cp.Count() > 0 {
				if _, ok := cp.Has(m.Provider); !ok {
					why, fix := explainMissing(m.Provider, in.Version, cp)
					fails = append(fails, fmt.Sprintf("membershipProviderClassName %s: %s, so the cluster does not start (%s)", m.Provider, why, fix))
				}
			}
		}
		switch providerKind(m.Provider) {
		case "dns":
			res, err := resolve.New(env)
			if err != nil {
				return probes.UnknownResult(id, err.Error())
			}
			return withDefects(judgeDNS(ctx, in, environ, res, local, ev), in, fails, warns)
		case "kubernetes":
			return withDefects(judgeKubernetes(ctx, env, in, environ, local, ev), in, fails, warns)
		}
		return withDefects(probes.WarnResult(id, fmt.Sprintf("%s: cloud membership (%s) at %s: members come from a provider clusterdoctor does not know", in.Label(), conf.SimpleName(m.Provider), where)).
			With("Tomcat's own providers are KubernetesMembershipProvider (kubernetes, the default) and DNSMembershipProvider (dns)", "", ev), in, fails, warns)
	case "other":
		return probes.WarnResult(id, fmt.Sprintf("%s: membership %s at %s is not one clusterdoctor knows", in.Label(), c.MembershipClass(), where)).With("", "", ev)
	}
	return p.judgeMulticast(env, in, m, where, ev)
}

func (p MembershipCheck) judgeMulticast(env *probes.Env, in *Instance, m membership, where string, ev map[string]any) probes.Result {
	const id = "tomcat.membership"
	ev["group"], ev["port"], ev["frequency"], ev["dropTime"] = m.Group, m.Port, m.Frequency, m.DropTime
	group, err := netip.ParseAddr(m.Group)
	switch {
	case err != nil || !group.Is4() || !group.IsMulticast():
		return probes.FailResult(id, fmt.Sprintf("%s: McastService address %q at %s is not an IPv4 multicast group", in.Label(), m.Group, where)).
			With("McastService cannot join it and the cluster does not start", "use a group in 224.0.0.0/4 (Tomcat's default is 228.0.0.4)", ev)
	case m.Port < 1 || m.Port > 65535:
		return probes.FailResult(id, fmt.Sprintf("%s: McastService port %d at %s is not a port", in.Label(), m.Port, where)).With("", "use 45564, Tomcat's default", ev)
	case m.TTL == 0:
		return probes.FailResult(id, fmt.Sprintf("%s: McastService ttl=\"0\" at %s keeps every heartbeat on this host", in.Label(), where)).
			With("a TTL of 0 never leaves the host: no peer hears this member", "remove ttl (Java's default is 1) or set the hop count the cluster spans", ev)
	case m.DropTime < 2*m.Frequency:
		return probes.WarnResult(id, fmt.Sprintf("%s: dropTime %d ms is less than two heartbeats of %d ms (%s)", in.Label(), m.DropTime, m.Frequency, where)).
			With("one late or lost heartbeat drops the member and its sessions are no longer replicated to; Tomcat's defaults are 500 and 3000", "set dropTime to at least 3 x frequency", ev)
	}
	var notes []string
	if r := reservedGroup(group); r != "" {
		return probes.WarnResult(id, fmt.Sprintf("%s: McastService address %s at %s is in %s", in.Label(), group, where, r)).
			With("the heartbeats share the group with protocols it is reserved for, and switches and routers treat it as they treat those",
				"use a group in 239.0.0.0/8 (organization-local scope), the same on every node", ev)
	}
	if m.Bind != "" {
		ev["bind"] = m.Bind
		return probes.FailResult(id, fmt.Sprintf("%s: McastService bind=%q at %s: Tomcat binds its multicast socket to the group itself, and Linux refuses to send from it", in.Label(), m.Bind, where)).
			With("with bind set, McastServiceImpl.setupSocket binds the socket to "+m.Group+":"+fmt.Sprint(m.Port)+" (the group), which Linux allows; the first heartbeat then fails with \"java.net.SocketException: Invalid argument\" and the cluster, and Tomcat, do not start (seen with Tomcat 10.1 on Java 17)",
				"remove bind from <Membership> and route the group to the cluster interface: clusterdoctor fix route --iface "+ifaceOr(p.Iface)+" --persist", ev)
	}
	notes = append(notes, "no bind: the kernel's route for the group decides where heartbeats go (route.multicast)")
	if m.TTL > 1 {
		notes = append(notes, fmt.Sprintf("ttl=%d lets heartbeats cross %d routers", m.TTL, m.TTL-1))
	}
	return probes.PassResult(id, fmt.Sprintf("%s: multicast membership %s:%d, heartbeat every %d ms, members dropped after %d ms (%s)",
		in.Label(), m.Group, m.Port, m.Frequency, m.DropTime, where)).With(strings.Join(notes, "; "), "", ev)
}

func (p MembershipCheck) judgeStatic(ctx context.Context, env *probes.Env, in *Instance, m membership, ev map[string]any) probes.Result {
	const id = "tomcat.membership"
	if len(m.Static) == 0 {
		return probes.FailResult(id, fmt.Sprintf("%s: static membership without any <Member>", in.Label())).
			With("no member is ever known", "add a <Member host=... port=...> for every other node", ev)
	}
	res, err := resolve.New(env)
	if err != nil {
		return probes.UnknownResult(id, err.Error())
	}
	problems := staticProblems(in, m)
	warns := staticInterceptorWarnings(in, m)
	if miss := missingLocal(ctx, env, in, m, res); miss != "" {
		problems = append(problems, miss)
	}
	if len(problems) > 0 {
		return probes.FailResult(id, fmt.Sprintf("%s: %s", in.Label(), problems[0])).
			With(strings.Join(problems, "; "), "give every node a uniqueId of its own, written {b0,b1,...,b15} (16 numbers -128..127, no spaces), each member once, and this node as <LocalMember> or as the <Member> at its own Receiver", ev)
	}
	local, _ := env.InterfaceAddrs()
	type outcome struct {
		member string
		text   string
		ok     bool
	}
	outs := make([]outcome, len(m.Static))
	var wg sync.WaitGroup
	for i, sm := range m.Static {
		outs[i].member = fmt.Sprintf("%s:%d (%s)", sm.Host, sm.Port, in.pos(sm.El))
		addr, err := netip.ParseAddr(sm.Host)
		if err != nil {
			ans, lerr := res.Lookup(ctx, sm.Host)
			if lerr != nil {
				outs[i].text = "does not resolve"
				continue
			}
			addr = ans.First()
		}
		if probes.HolderOf(local, addr) != "" {
			outs[i].text, outs[i].ok = "this host itself", true
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := reach.TCP(ctx, netip.AddrPortFrom(addr, uint16(sm.Port)), memberDial)
			outs[i].text, outs[i].ok = r.Text(), r.Outcome == reach.Open
		}()
	}
	wg.Wait()
	var bad, all []string
	for _, o := range outs {
		all = append(all, o.member+": "+o.text)
		if !o.ok {
			bad = append(bad, o.member+" "+o.text)
		}
	}
	ev["members"] = all
	if len(bad) > 0 {
		return probes.FailResult(id, fmt.Sprintf("%s: static member %s", in.Label(), bad[0])).
			With(strings.Join(all, "; ")+"; Tomcat replicates to each static member over TCP and never hears of it otherwise",
				"open the member's Receiver port in its firewall and check it runs; the port must be that member's Receiver port", ev)
	}
	if len(warns) > 0 {
		return probes.WarnResult(id, fmt.Sprintf("%s: %s", in.Label(), warns[0])).
			With(strings.Join(warns, "; ")+"; every member accepts TCP ("+strings.Join(all, "; ")+")",
				"list <Interceptor className=\"org.apache.catalina.tribes.group.interceptors.TcpPingInterceptor\"/> and TcpFailureDetector before the StaticMembershipInterceptor in <Channel>, as the cluster-interceptor documentation shows", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("%s: static membership, every member accepts TCP (%s)", in.Label(), strings.Join(all, "; "))).
		With("multicast is not used: route.multicast, firewall.igmp and the membership port do not apply", "", ev)
}

func ifaceOr(iface string) string {
	if iface == "" {
		return "IFACE"
	}
	return iface
}

// reservedGroup says what a multicast group is reserved for where a cluster's heartbeats
// do not belong: 224.0.0.0/24 (link-local control: routers never forward it, snooping
// switches flood it to every port; all-hosts, OSPF, VRRP live there) and 232.0.0.0/8
// (source-specific multicast: an any-source join, as McastService makes, is not honoured
// by SSM routers and snooping switches). "" for any other group.
func reservedGroup(g netip.Addr) string {
	switch {
	case netip.MustParsePrefix("224.0.0.0/24").Contains(g):
		return "224.0.0.0/24, reserved for link-local control protocols (never routed, flooded to every switch port)"
	case netip.MustParsePrefix("232.0.0.0/8").Contains(g):
		return "232.0.0.0/8, reserved for source-specific multicast (an any-source join like McastService's is not honoured there)"
	}
	return ""
}

// judgeBoth: a StaticMembershipInterceptor's members while McastService still runs (the
// default channelStartOptions start it): Tomcat uses both, so both are judged, and the
// multicast beside the static members is named, with the option that turns it off.
func (p MembershipCheck) judgeBoth(ctx context.Context, env *probes.Env, in *Instance, c *conf.Cluster, m membership, where string, ev map[string]any) probes.Result {
	const id = "tomcat.membership"
	opts, _ := c.StartOptions()
	if m.Local != nil {
		return probes.FailResult(id, fmt.Sprintf("%s: the StaticMembershipInterceptor's <LocalMember> at %s while McastService runs (channelStartOptions=%d at %s): Tomcat does not start", in.Label(), in.pos(m.Local), opts, in.pos(c.El))).
			With("with a static local member ChannelCoordinator gives McastService no listen address and port, and McastService refuses to start: \"Required property [tcpListenPort] is missing\"",
				fmt.Sprintf("set channelStartOptions=\"3\" on the <Cluster> at %s for static membership alone, or remove the <LocalMember> to run both", in.pos(c.El)), ev)
	}
	both := probes.WarnResult(id, fmt.Sprintf("%s: McastService still runs beside the %d static members (channelStartOptions=%d at %s)", in.Label(), len(m.Static), opts, in.pos(c.El))).
		With("Tomcat uses both: heartbeats go to "+m.Group+" and every host that hears them joins, so the static list is not the whole membership, and multicast's needs (route, firewall, IGMP) still apply",
			fmt.Sprintf("set channelStartOptions=\"3\" on the <Cluster> at %s if the static members are all (it starts the channel without the membership service)", in.pos(c.El)), ev)
	mc := p.judgeMulticast(env, in, m, where, ev)
	st := p.judgeStatic(ctx, env, in, m, ev)
	return probes.Merge(id, "parts", []probes.Result{both, mc, st})
}
