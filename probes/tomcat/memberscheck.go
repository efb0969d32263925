package tomcat

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/members"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// MembersCheck is tomcat.members: with this host's Tomcat running multicast membership,
// listen to the group for about two heartbeat periods and expect this host's own member
// and every peer's, each advertising an address peers can reach over TCP. Tomcat logs
// nothing above INFO when a member is missing; this is where it shows.
type MembersCheck struct {
	Found *Found
	Iface string
	Group netip.Addr
	Port  int
	Peers []string
	// ReceiverPort labels an expected peer that is not heard: the port this host's own
	// Receiver uses, as the peers' usually do, so its series is the one it had when heard.
	ReceiverPort int
}

// ID implements probes.Probe.
func (MembersCheck) ID() string { return "tomcat.members" }

// Timeout implements probes.Probe: the listening, then a TCP test per receiver.
func (MembersCheck) Timeout() time.Duration { return 8 * time.Second }

// Run implements probes.Probe.
func (p MembersCheck) Run(ctx context.Context, env *probes.Env) probes.Result {
	id := p.ID()
	if p.Found == nil || len(p.Found.Instances) == 0 {
		return noTomcat(id, p.Found)
	}
	in := p.running(env)
	if in == nil {
		return probes.SkipResult(id, "no Tomcat with multicast membership runs on this host: there is no member to hear")
	}
	freq, drop, _ := in.Heartbeats()
	cfg := members.Config{Group: p.Group, Port: p.Port, Iface: p.Iface, Duration: 2*freq + 300*time.Millisecond,
		Frequency: freq, DropTime: drop, ExpectSelf: true, TCPTimeout: 1500 * time.Millisecond}
	if local, err := env.InterfaceAddrs(); err == nil {
		cfg.AddLocal(local)
	}
	rep, err := members.Listen(ctx, cfg)
	if err != nil {
		return probes.UnknownResult(id, fmt.Sprintf("cannot listen to %s:%d: %v", p.Group, p.Port, err))
	}
	var problems, heard []string
	var states []members.State
	for _, m := range rep.Members {
		heard = append(heard, fmt.Sprintf("%s:%d (%s)", m.Address, m.Port, m.Status))
		states = append(states, members.State{Address: m.Address, Port: m.Port, Up: m.Status != members.StatusGone, AgeSeconds: float64(m.LastHeardMs) / 1000})
		for _, pr := range m.Problems {
			problems = append(problems, fmt.Sprintf("%s:%d %s", m.Address, m.Port, pr))
		}
	}
	problems = append(problems, rep.Problems...)
	for _, peer := range p.missingPeers(ctx, env, rep, cfg.Local) {
		problems = append(problems, fmt.Sprintf("peer %s (%s) is not heard: its Tomcat does not run, or its heartbeats do not reach this host (mcast-test --peer says which)", peer.name, peer.addr))
		states = append(states, members.State{Address: peer.addr.String(), Port: p.ReceiverPort, Up: false, AgeSeconds: -1})
	}
	ev := map[string]any{"base": in.Base, "members": heard, "group": fmt.Sprintf("%s:%d", p.Group, p.Port), "listenedMs": rep.DurationMs,
		MemberStates: states}
	if len(problems) > 0 {
		return probes.FailResult(id, fmt.Sprintf("%s: %s", in.Label(), problems[0])).
			With(strings.Join(problems[1:], "; "), "clusterdoctor members shows every member's heartbeats and what is wrong with them", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("%d members heard, this host's among them, every receiver accepts TCP: %s", len(heard), strings.Join(heard, ", "))).
		With("", "", ev)
}

// running is this host's running instance with multicast membership, in this network
// namespace.
func (p MembersCheck) running(env *probes.Env) *Instance {
	if !env.LiveKernel() {
		return nil
	}
	for _, in := range p.Found.Instances {
		if _, _, ok := in.Heartbeats(); ok && in.InThisNetns() {
			return in
		}
	}
	return nil
}

// InThisNetns reports whether the instance runs in this process's network namespace: a
// Tomcat in a container on this machine is another host as far as the network goes.
func (in *Instance) InThisNetns() bool {
	if in.PID <= 0 {
		return false
	}
	self, err := os.Readlink("/proc/self/ns/net")
	return err == nil && in.NetNS == self
}

// MemberStates is the evidence key holding []members.State, for the agent's metrics.
const MemberStates = "memberStates"

type namedAddr struct {
	name string
	addr netip.Addr
}

// missingPeers are the peers (by name or address) no heard member advertises.
func (p MembersCheck) missingPeers(ctx context.Context, env *probes.Env, rep *members.Report, local []netip.Addr) []namedAddr {
	var advertised []netip.Addr
	for _, m := range rep.Members {
		if a, err := netip.ParseAddr(m.Address); err == nil && m.Status != members.StatusGone {
			advertised = append(advertised, a)
		}
	}
	r, err := resolve.New(env)
	var missing []namedAddr
	for _, peer := range p.Peers {
		a, perr := netip.ParseAddr(peer)
		if perr != nil && err == nil {
			if ans, lerr := r.Lookup(ctx, peer); lerr == nil {
				a = ans.First()
			}
		}
		if !a.IsValid() {
			continue // unresolvable: hosts.peers says so
		}
		if !slices.Contains(advertised, a) && !slices.Contains(local, a) {
			missing = append(missing, namedAddr{peer, a})
		}
	}
	return missing
}
