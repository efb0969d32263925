package igmp

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// QuerierCheck is igmp.querier: which IGMP querier serves the cluster interface's LAN and
// when it was last heard. A snooping switch forwards the cluster's group only while
// members answer a querier; when the querier goes quiet, or none is known at all, the
// group's traffic stops minutes after the members joined ("it works only after five
// minutes", members that vanish and come back). `tcpdump -i IFACE igmp` for a few
// minutes shows the same queries.
type QuerierCheck struct {
	Iface string
	// Agent is the address of this host's agent, which listens all the time; its state
	// is the best evidence. Empty: none is asked.
	Agent string
	// Listen is how long to listen when no agent answers (queriers ask every 125 s by
	// default, so a short listen hears one only by luck). Zero: no listen.
	Listen time.Duration
}

// ID implements probes.Probe.
func (QuerierCheck) ID() string { return "igmp.querier" }

// Timeout implements probes.Probe.
func (p QuerierCheck) Timeout() time.Duration { return p.Listen + 2*time.Second }

// DependsOn implements probes.Dependent.
func (QuerierCheck) DependsOn() []string { return []string{"link.cluster"} }

// KernelOnly implements probes.KernelOnly.
func (QuerierCheck) KernelOnly() {}

// heard is what the check learnt of the LAN's queriers, and from where.
type heard struct {
	State
	from string
}

// Run implements probes.Probe.
func (p QuerierCheck) Run(ctx context.Context, env *probes.Env) probes.Result {
	id := p.ID()
	h, listenErr := p.heard(ctx)
	ev := map[string]any{"from": h.from, "queriers": h.Queriers}
	br, brErr := bridgeFor(p.Iface)
	kernel := p.kernelVersion(env)
	ev["kernelQuerier"] = kernel

	if q, ok := Elected(h.Queriers, h.Now); ok {
		r := probes.PassResult(id, fmt.Sprintf("querier %s (%s) serves %s: last heard %s ago (%s)", q.Addr, describe(q), p.Iface, age(h.Now, q.Last), h.from))
		r.Evidence = ev
		return r
	}
	if br != nil && br.Snooping && br.Learned.IsValid() && (br.OtherTimer > 0 || br.LearnedPort == 0 && br.Querier) {
		who := fmt.Sprintf("querier %s, learned by bridge %s", br.Learned, br.Name)
		if br.LearnedPort == 0 {
			who = fmt.Sprintf("bridge %s's own querier (%s, every %s)", br.Name, br.Learned, br.QueryInterval)
		}
		r := probes.PassResult(id, who+" serves "+p.Iface)
		r.Evidence = ev
		return r
	}
	if len(h.Queriers) > 0 {
		last := slices.MaxFunc(h.Queriers, func(a, b Querier) int { return a.Last.Compare(b.Last) })
		r := probes.WarnResult(id, fmt.Sprintf("querier %s (%s) has gone quiet: last heard %s ago on %s, longer than its %s allow (%s); a snooping switch that learned it forgets the cluster's group about its membership interval after this host's last report, and Tomcat's heartbeats stop",
			last.Addr, describe(last), age(h.Now, last.Last), p.Iface, presence(last), h.from))
		r.Remediation = remedy(p.Iface)
		r.Evidence = ev
		return r
	}
	if kernel == "V1" || kernel == "V2" {
		r := probes.PassResult(id, fmt.Sprintf("an IGMP%s querier is heard on %s (the kernel answers in %s; it does not keep the querier's address)", strings.ToLower(kernel[:1])+kernel[1:], p.Iface, kernel))
		r.Evidence = ev
		return r
	}
	var how []string
	if h.from != "" {
		how = append(how, h.from)
	}
	if listenErr != nil {
		how = append(how, listenErr.Error())
	}
	if brErr == nil && br == nil {
		how = append(how, "no bridge of this host carries "+p.Iface)
	}
	r := probes.WarnResult(id, fmt.Sprintf("no IGMP querier is known on %s's LAN (%s): without one a snooping switch may drop the cluster's group minutes after the members join",
		p.Iface, strings.Join(how, "; ")))
	r.Remediation = remedy(p.Iface) + "; to know for sure, run `clusterdoctor agent` (it listens all the time) or `tcpdump -i " + p.Iface + " igmp` for three minutes"
	r.Evidence = ev
	return r
}

// heard asks the agent, else listens for p.Listen.
func (p QuerierCheck) heard(ctx context.Context) (heard, error) {
	if p.Agent != "" {
		if s, err := AskAgent(ctx, p.Agent); err == nil && s.Iface == p.Iface {
			return heard{s, fmt.Sprintf("the agent has listened for %s", age(s.Now, s.Since))}, nil
		}
	}
	now := time.Now()
	if p.Listen <= 0 {
		return heard{State: State{Iface: p.Iface, Now: now}, from: "no agent runs here"}, nil
	}
	c, err := Open(p.Iface)
	if err != nil {
		return heard{State: State{Iface: p.Iface, Now: now}, from: "no agent runs here"}, fmt.Errorf("could not listen: %w", err)
	}
	defer c.Close()
	t := NewTracker(0)
	lctx, cancel := context.WithTimeout(ctx, p.Listen)
	defer cancel()
	c.Run(lctx, func(e Event) {
		if !e.Out {
			t.Heard(e.Packet, e.At)
		}
	})
	return heard{State: State{Iface: p.Iface, Since: now, Now: time.Now(), Queriers: t.Queriers()},
		from: fmt.Sprintf("no agent runs here; listened %s", p.Listen)}, nil
}

// kernelVersion is /proc/net/igmp's querier version for the interface, blank where it
// tells nothing: forced by force_igmp_version, or V3 (said as well for no querier).
func (p QuerierCheck) kernelVersion(env *probes.Env) string {
	b, err := env.ReadFile("/proc/net/igmp", 1<<20)
	if err != nil {
		return ""
	}
	v := KernelQuerierVersion(bytes.NewReader(b), p.Iface)
	for _, conf := range []string{"all", p.Iface} {
		if f, err := env.ReadTrimmed("/proc/sys/net/ipv4/conf/" + conf + "/force_igmp_version"); err == nil && f != "0" {
			return ""
		}
	}
	if v == "V3" {
		return ""
	}
	return v
}

// bridgeFor is the bridge of this host that iface is, or is a port of (nil: none).
func bridgeFor(iface string) (*Bridge, error) {
	ls, err := ListLinks()
	if err != nil {
		return nil, err
	}
	if b, _, ok := ls.Carrying(iface); ok {
		return &b, nil
	}
	return nil, nil
}

func describe(q Querier) string {
	s := fmt.Sprintf("IGMPv%d", q.Version)
	switch {
	case q.Interval > 0 && q.Measured:
		s += fmt.Sprintf(", every %s as measured", q.Interval.Round(time.Second/10))
	case q.Interval > 0:
		s += fmt.Sprintf(", every %s", q.Interval)
	}
	return s
}

// presence says how long a querier may be silent, and why.
func presence(q Querier) string {
	interval, assumed := q.Interval, ""
	if interval <= 0 {
		interval, assumed = DefaultQueryInterval, " (assumed)"
	}
	rv := q.Robustness
	if rv <= 0 {
		rv = DefaultRobustness
	}
	return fmt.Sprintf("%s (%d × %s%s + %s/2)", q.PresentFor().Round(time.Second/10), rv, interval, assumed, q.MaxResp)
}

func age(now, then time.Time) string { return now.Sub(then).Round(time.Second / 10).String() }

func remedy(iface string) string {
	return "a querier on the switch or VLAN of " + iface + " (e.g. `ip igmp snooping querier` on the switch); on a Linux bridge its own querier with a query interval below the membership interval (ip link set BRIDGE type bridge mcast_querier 1 mcast_query_interval 12500); or snooping off for the cluster's VLAN"
}
