package tomcat

import (
	"context"
	"fmt"
	"strings"
	"time"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Distributable is tomcat.distributable: which deployed applications replicate their
// sessions. Tomcat gives an application the cluster's manager only when its own web.xml
// has <distributable/> (conf/web.xml's does not count: Tomcat treats the defaults as
// distributable), every web-fragment.xml it merges has it too, and no <Manager> in its
// context configuration (conf/context.xml included) replaces the cluster's: then it
// silently keeps a StandardManager.
type Distributable struct {
	Found *Found
}

// ID implements probes.Probe.
func (Distributable) ID() string { return "tomcat.distributable" }

// Timeout implements probes.Probe: WARs are opened to read their descriptors.
func (Distributable) Timeout() time.Duration { return 8 * time.Second }

// DependsOn implements probes.Dependent: without a cluster nothing replicates anyway.
func (Distributable) DependsOn() []string { return []string{"tomcat.cluster"} }

// Run implements probes.Probe.
func (p Distributable) Run(ctx context.Context, env *probes.Env) probes.Result {
	if p.Found == nil || len(p.Found.Instances) == 0 {
		return noTomcat(p.ID(), p.Found)
	}
	return merge(p.ID(), each(p.ID(), p.Found, judgeDistributable))
}

func judgeDistributable(in *Instance) probes.Result {
	const id = "tomcat.distributable"
	apps, err := in.Apps()
	if err != nil {
		return probes.UnknownResult(id, fmt.Sprintf("%s: cannot list the applications: %v", in.Label(), err))
	}
	var yes, no, bundled, why, fixes []string
	content := map[string]*Content{}
	for _, a := range apps {
		name := a.Host + a.Path
		if a.Replicates() {
			yes = append(yes, name)
			if c, err := in.Content(a); err == nil {
				content[name] = c
			}
			continue
		}
		if a.Bundled {
			bundled = append(bundled, name)
			continue
		}
		reason, fix := notReplicating(in, a)
		no = append(no, name)
		why = append(why, name+": "+reason)
		fixes = append(fixes, name+": "+fix)
	}
	ev := map[string]any{"base": in.Base, "replicating": yes, "notReplicating": no, "bundled": bundled, "content": content}
	switch {
	case len(yes)+len(no) == 0:
		return probes.WarnResult(id, fmt.Sprintf("%s deploys no application of its own", in.Label())).
			With(listOr("only Tomcat's own applications: ", bundled, ""), "", ev)
	case len(yes) == 0:
		return probes.FailResult(id, fmt.Sprintf("%s: no application replicates its sessions (%s)", in.Label(), why[0])).
			With(strings.Join(why, "; "), strings.Join(fixes, "; "), ev)
	case len(no) > 0:
		return probes.WarnResult(id, fmt.Sprintf("%s: %d of %d applications replicate (%s); not %s", in.Label(), len(yes), len(yes)+len(no), strings.Join(yes, ", "), strings.Join(no, ", "))).
			With(strings.Join(why, "; "), strings.Join(fixes, "; "), ev)
	}
	return probes.PassResult(id, fmt.Sprintf("%s: every application replicates its sessions (%s)", in.Label(), strings.Join(yes, ", "))).
		With(listOr("not counted, Tomcat's own: ", bundled, ""), "", ev)
}

// notReplicating says why an application keeps its sessions to itself.
func notReplicating(in *Instance, a *App) (string, string) {
	switch {
	case !a.Cluster:
		return "its host has no cluster (the <Cluster> is in another Host)", "move the <Cluster> to the Engine, or add one to this Host"
	case a.WebXMLErr != nil:
		return fmt.Sprintf("its web.xml cannot be read: %v", a.WebXMLErr), "fix the descriptor; Tomcat does not deploy an application whose web.xml is broken"
	case a.WebXML == nil:
		return "it has no WEB-INF/web.xml, so no <distributable/>", "add a WEB-INF/web.xml with <distributable/>"
	case !a.WebXML.Distributable:
		return fmt.Sprintf("%s has no <distributable/>", a.WebXML.File), "add <distributable/> to " + a.WebXML.File + " (conf/web.xml's does not count)"
	case a.BlockingFragment != nil:
		f := a.BlockingFragment
		return fmt.Sprintf("web fragment %s has no <distributable/>, and an application is distributable only when every fragment it merges is", f.File),
			"add <distributable/> to that web-fragment.xml, leave the jar out with <absolute-ordering>, or set metadata-complete=\"true\""
	case a.Manager != nil:
		return fmt.Sprintf("the <Manager> at %s (%s) replaces the cluster's manager", in.pos(a.Manager), conf.SimpleName(conf.ClassName(a.Manager))),
			"remove that <Manager> (Tomcat then logs \"does not implement ClusterManager\"); a cluster needs the cluster's manager"
	}
	return "unknown", ""
}

func listOr(prefix string, items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return prefix + strings.Join(items, ", ")
}
