package tomcat

import (
	"context"
	"fmt"
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

// connectorClash fails when two instances of this host listen on one connector port (on
// the same address, or one of them on every address): the second cannot bind it and
// Tomcat logs "Address already in use".
func connectorClash(f *Found) *probes.Result {
	type bound struct {
		in   *Instance
		c    *conf.Connector
		addr string
	}
	byPort := map[int][]bound{}
	for _, in := range f.Instances {
		for _, c := range in.Connectors() {
			if c.PortErr != "" || c.Port <= 0 {
				continue
			}
			addr := c.Address
			if addr == "" && c.AJP && (in.Version.IsZero() || ajpLoopback.In(in.Version)) {
				addr = "127.0.0.1"
			}
			for _, o := range byPort[c.Port] {
				if o.in != in && (o.addr == addr || o.addr == "" || addr == "") {
					r := probes.FailResult("tomcat.cluster", fmt.Sprintf("two instances listen on port %d: %s and %s", c.Port, o.in.pos(o.c.El), in.pos(c.El))).
						With("the one that starts second cannot bind the port (\"Address already in use\") and that connector does not run",
							"give each instance its own connector ports", map[string]any{"instances": []string{o.in.Base, in.Base}, "port": c.Port})
					return &r
				}
			}
			byPort[c.Port] = append(byPort[c.Port], bound{in, c, addr})
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
	var notes []string
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
		}
	}
	for _, g := range ignored {
		notes = append(notes, g.describe(in))
	}
	summary := fmt.Sprintf("<Cluster> at %s level (%s): %s, %s", strings.ToLower(strings.Fields(c.Level)[0]), in.pos(c.El),
		conf.SimpleName(c.ManagerClass()), membershipText(m))
	if len(notes) > 0 {
		fix := "remove the <Cluster> elements Tomcat does not use, so the file says what runs"
		if len(ignored) > 0 {
			fix = "move each ignored element where it belongs (Tomcat logs \"No rules found matching\" for it and runs without it: an EncryptInterceptor there encrypts nothing), or remove it"
		}
		return probes.WarnResult(id, summary+"; "+notes[0]).
			With(strings.Join(notes, "; "), fix, ev)
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
