package tomcat

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Cluster is tomcat.cluster: a <Cluster> is configured (not commented out), where, with
// which session manager and which kind of membership, and Tomcat can load the cluster at
// all (without catalina-ha.jar and catalina-tribes.jar it skips the element, logging
// only at INFO).
type Cluster struct {
	Found *Found
}

// ID implements probes.Probe.
func (Cluster) ID() string { return "tomcat.cluster" }

// Timeout implements probes.Probe.
func (Cluster) Timeout() time.Duration { return Timeout }

// Run implements probes.Probe.
func (p Cluster) Run(ctx context.Context, env *probes.Env) probes.Result {
	if p.Found == nil || len(p.Found.Instances) == 0 {
		return noTomcat(p.ID(), p.Found)
	}
	if r := connectorClash(p.Found); r != nil {
		return *r
	}
	return merge(p.ID(), each(p.ID(), p.Found, judgeCluster))
}

// connectorClash fails when two instances of this host listen on one port, a connector's
// or the shutdown port (on the same address, or one of them on every address; each shifted
// by <Server portOffset> where the release has it): the second cannot bind it and Tomcat
// logs "Address already in use". The connector does not run; a Tomcat without its
// shutdown port stops right after it started.
func connectorClash(f *Found) *probes.Result {
	type bound struct {
		in         *Instance
		el         *conf.Element
		what, addr string
	}
	byPort := map[int][]bound{}
	for _, in := range f.Instances {
		offset := 0
		if in.Server != nil && (in.Version.IsZero() || portOffset.In(in.Version)) {
			offset = in.Server.PortOffset
		}
		var listens []bound
		var ports []int
		if in.Server != nil && in.Server.Port > 0 {
			addr := in.Server.Address
			if addr == "localhost" {
				addr = "127.0.0.1"
			}
			listens, ports = append(listens, bound{in, in.Server.Root, "shutdown port of ", addr}), append(ports, in.Server.Port+offset)
		}
		for _, c := range in.Connectors() {
			if c.PortErr != "" || c.Port <= 0 {
				continue
			}
			addr := c.Address
			if addr == "" && c.AJP && (in.Version.IsZero() || ajpLoopback.In(in.Version)) {
				addr = "127.0.0.1"
			}
			listens, ports = append(listens, bound{in, c.El, "", addr}), append(ports, c.Port+offset)
		}
		for i, b := range listens {
			port := ports[i]
			for _, o := range byPort[port] {
				if o.in != in && (o.addr == b.addr || o.addr == "" || b.addr == "") {
					r := probes.FailResult("tomcat.cluster", fmt.Sprintf("two instances listen on port %d: %s%s and %s%s", port, o.what, o.in.pos(o.el), b.what, in.pos(b.el))).
						With("the one that starts second cannot bind the port (\"Address already in use\"): a connector does not run, and a Tomcat without its shutdown port stops right after it started",
							"give each instance its own ports (or its own <Server portOffset>)", map[string]any{"instances": []string{o.in.Base, in.Base}, "port": port})
					return &r
				}
			}
			byPort[port] = append(byPort[port], b)
		}
	}
	return nil
}

func judgeCluster(in *Instance) probes.Result {
	const id = "tomcat.cluster"
	c, _ := in.Cluster()
	ev := map[string]any{"base": in.Base, "version": in.Version.String()}
	ignored := in.ignoredClusterElements()
	if c == nil && len(ignored) > 0 && ignored[0].El.Name == "Cluster" {
		return probes.FailResult(id, fmt.Sprintf("%s: %s: sessions are not replicated", in.Label(), ignored[0].describe(in))).
			With("Catalina's digester reads a <Cluster> only inside <Engine> or <Host>; anywhere else it logs \"No rules found matching\" and runs without it",
				fmt.Sprintf("move the <Cluster> at %s inside <Engine>", in.pos(ignored[0].El)), ev)
	}
	if c == nil {
		return probes.FailResult(id, fmt.Sprintf("%s has no <Cluster> in %s: sessions are not replicated", in.Label(), in.Rel(in.ServerFile))).
			With("a <Cluster> inside a comment is no cluster; Tomcat only replicates with a Cluster element at Engine or Host level",
				"add the <Cluster> block of the installed version's cluster how-to inside <Engine>", ev)
	}
	m := membershipOf(in, c)
	ev["file"], ev["level"], ev["manager"], ev["membership"] = in.pos(c.El), c.Level, c.ManagerClass(), m.Kind
	var notes, fixes []string
	if cp := in.ClassPath(); in.Home != "" && cp.Count() > 0 {
		for _, need := range []string{"org.apache.catalina.ha.ClusterRuleSet", "org.apache.catalina.tribes.Channel"} {
			if _, ok := cp.Has(need); !ok {
				return probes.FailResult(id, fmt.Sprintf("%s: Tomcat ignores the <Cluster> at %s: %s is not in its jars", in.Label(), in.pos(c.El), need)).
					With("without catalina-ha.jar and catalina-tribes.jar Tomcat skips the Cluster element and says so only at INFO (\"catalina.noCluster\")",
						"restore catalina-ha.jar and catalina-tribes.jar in "+in.Home+"/lib", ev)
			}
		}
	}
	for _, e := range in.Engines() {
		if len(e.Clusters) > 1 {
			var lines []string
			for _, cl := range e.Clusters {
				lines = append(lines, in.pos(cl.El))
			}
			notes = append(notes, fmt.Sprintf("%d <Cluster> elements in Engine %s (%s): Tomcat keeps only the last", len(e.Clusters), e.Name, strings.Join(lines, ", ")))
			fixes = append(fixes, "remove the <Cluster> elements Tomcat does not use, so the file says what runs")
		}
	}
	engineAt := map[string]string{}
	for _, e := range in.Engines() {
		if first, dup := engineAt[e.Name]; dup {
			notes = append(notes, fmt.Sprintf("two <Engine name=%q> in one server.xml (%s and %s): Tomcat names MBeans and naming contexts by the Engine, so the second one's applications get no naming context (\"Creation of the naming context failed\")",
				e.Name, first, in.pos(e.El)))
			fixes = append(fixes, "give each <Engine> a name of its own")
			continue
		}
		engineAt[e.Name] = in.pos(e.El)
	}
	if note := stateTransferNote(in, c); note != "" {
		notes = append(notes, note)
		fixes = append(fixes, "set stateTransferTimeout on the DeltaManager to the seconds a node may wait for its peers' sessions (60 by default)")
	}
	if sv := in.Server; sv != nil && sv.Port > 0 && exposedAddress(sv.Address) {
		notes = append(notes, fmt.Sprintf("the shutdown port %d listens on %s (<Server> at %s): anyone who reaches it and sends the shutdown word stops this Tomcat", sv.Port, sv.Address, in.pos(sv.Root)))
		fixes = append(fixes, "leave <Server address> out (localhost), or set port=\"-1\" and stop Tomcat through its service")
	}
	for _, g := range ignored {
		notes = append(notes, g.describe(in))
		fixes = append(fixes, "move each ignored element where it belongs (Tomcat logs \"No rules found matching\" for it and runs without it: an EncryptInterceptor there encrypts nothing), or remove it")
	}
	summary := fmt.Sprintf("<Cluster> at %s level (%s): %s, %s", strings.ToLower(strings.Fields(c.Level)[0]), in.pos(c.El),
		conf.SimpleName(c.ManagerClass()), membershipText(m))
	if len(notes) > 0 {
		return probes.WarnResult(id, summary+"; "+notes[0]).
			With(strings.Join(notes, "; "), strings.Join(slices.Compact(fixes), "; "), ev)
	}
	return probes.PassResult(id, summary).With(strings.Join(in.Notes, "; "), "", ev)
}

func membershipText(m membership) string {
	switch m.Kind {
	case "multicast":
		return fmt.Sprintf("multicast membership %s:%d", m.Group, m.Port)
	case "static":
		return fmt.Sprintf("static membership (%d members listed)", len(m.Static))
	case "cloud":
		return "cloud membership (" + conf.SimpleName(m.Provider) + ")"
	case "none":
		return "no membership service started"
	}
	return "membership " + conf.SimpleName(m.Kind)
}

// exposedAddress reports whether a listening address is reachable from other hosts: not
// loopback (localhost, 127/8, ::1).
func exposedAddress(addr string) bool {
	if a, err := netip.ParseAddr(strings.Trim(addr, "[]")); err == nil {
		return !a.IsLoopback()
	}
	return addr != "localhost" && addr != ""
}

// stateTransferNote judges DeltaManager's stateTransferTimeout, the seconds a starting
// node waits for its peers' sessions (DeltaManager.waitForSendAllSessions): -1 waits
// forever, so a peer that never answers holds the start; 0 or another negative value does
// not wait, so the node serves before it has the cluster's sessions.
func stateTransferNote(in *Instance, c *conf.Cluster) string {
	if conf.SimpleName(c.ManagerClass()) != "DeltaManager" || c.Manager == nil {
		return ""
	}
	v, ok := c.Manager.Get("stateTransferTimeout")
	if !ok {
		return ""
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	switch {
	case err != nil:
		return ""
	case n == -1:
		return fmt.Sprintf("stateTransferTimeout=\"-1\" at %s waits forever for the peers' sessions: a peer that never answers holds this node's start", in.pos(c.Manager))
	case n <= 0:
		return fmt.Sprintf("stateTransferTimeout=%q at %s does not wait for the peers' sessions: this node serves before it has them, and never learns a session that existed before it started (DeltaManager ignores deltas of sessions it does not have), so such a session is lost when it fails over here", v, in.pos(c.Manager))
	}
	return ""
}
