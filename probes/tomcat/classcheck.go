package tomcat

import (
	"context"
	"fmt"
	"strings"
	"time"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Classes is tomcat.classes: every class server.xml names exists in the jars of the
// installed Tomcat. One missing class and Tomcat does not start at all ("Cannot start
// server. Server instance is not configured."): the digester stops at the element. A
// class that is gone is explained: since when, and what replaces it.
type Classes struct {
	Found *Found
}

// ID implements probes.Probe.
func (Classes) ID() string { return "tomcat.classes" }

// Timeout implements probes.Probe: the jars' directories are read, not their contents.
func (Classes) Timeout() time.Duration { return Timeout }

// Run implements probes.Probe.
func (p Classes) Run(ctx context.Context, env *probes.Env) probes.Result {
	if p.Found == nil || len(p.Found.Instances) == 0 {
		return noTomcat(p.ID(), p.Found)
	}
	return merge(p.ID(), each(p.ID(), p.Found, judgeClasses))
}

// missingClass is one className the class path does not hold.
type missingClass struct {
	el       *conf.Element
	class    string
	why, fix string
}

func judgeClasses(in *Instance) probes.Result {
	const id = "tomcat.classes"
	if in.Home == "" {
		return probes.UnknownResult(id, fmt.Sprintf("%s: cannot tell which classes exist: %v", in.Label(), in.VersionErr)).
			With("", "give CATALINA_HOME with --tomcat-home", map[string]any{"base": in.Base})
	}
	cp := in.ClassPath()
	if cp.Count() == 0 {
		return probes.UnknownResult(id, fmt.Sprintf("%s: no classes found in %s/lib", in.Label(), in.Home)).
			With(strings.Join(cp.Unreadable, "; "), "check that CATALINA_HOME is the installation Tomcat runs from", map[string]any{"base": in.Base})
	}
	var missing []missingClass
	var noClass []string
	checked := 0
	var walk func(e *conf.Element)
	walk = func(e *conf.Element) {
		class, named := e.Get("className")
		class = strings.TrimSpace(class)
		switch {
		case named && class != "":
			checked++
			if _, ok := cp.Has(class); !ok {
				why, fix := explainMissing(class, in.Version, cp)
				missing = append(missing, missingClass{el: e, class: class, why: why, fix: fix})
			}
		case needsClassName(e):
			noClass = append(noClass, fmt.Sprintf("<%s> at %s has no className (Tomcat needs one there)", e.Name, in.pos(e)))
		}
		for _, k := range e.Children {
			walk(k)
		}
	}
	walk(in.Server.Root)
	ev := map[string]any{"base": in.Base, "version": in.Version.String(), "checked": checked, "jars": len(cp.Jars)}
	if len(missing) > 0 {
		m := missing[0]
		var all, fixes []string
		for _, x := range missing {
			all = append(all, fmt.Sprintf("%s at %s: %s", conf.SimpleName(x.class), in.pos(x.el), x.why))
			fixes = append(fixes, fmt.Sprintf("%s: %s", in.pos(x.el), x.fix))
		}
		ev["missing"] = all
		return probes.FailResult(id, fmt.Sprintf("%s: Tomcat %s will not start: %s (%s) is not in its jars", in.Label(), in.Version, m.class, in.pos(m.el))).
			With(strings.Join(all, "; ")+"; Tomcat stops at the first such element with ClassNotFoundException and \"Cannot start server\"",
				strings.Join(fixes, "; "), ev)
	}
	if len(noClass) > 0 {
		return probes.FailResult(id, fmt.Sprintf("%s: %s", in.Label(), noClass[0])).
			With(strings.Join(noClass, "; "), "give each element the className of the installed version's documentation", ev)
	}
	if ignored := ignoredAttributes(in, cp); len(ignored) > 0 {
		ev["ignoredAttributes"] = ignored
		return probes.WarnResult(id, fmt.Sprintf("%s: %s", in.Label(), ignored[0])).
			With(strings.Join(ignored, "; ")+"; Tomcat logs \"did not find a matching property\" and runs without the setting",
				"correct each attribute's name, or move it to the element whose class has it", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("%s: all %d classes server.xml names exist in Tomcat %s's jars", in.Label(), checked, in.Version)).With("", "", ev)
}

// ignoredAttributes are the attributes of the Engine and cluster elements that the
// digester's SetPropertiesRule finds no property for on the element's class, as read
// from this Tomcat's own jars: Tomcat logs "did not find a matching property" and ignores
// them (jvmRouter for jvmRoute, a DeltaManager setting on BackupManager). className is
// the digester's own, never a property.
func ignoredAttributes(in *Instance, cp *ClassPath) []string {
	var out []string
	for _, e := range in.createdElements() {
		s, ok := cp.Setters(e.class)
		if !ok {
			continue
		}
		for _, a := range e.el.Attrs {
			if a.Name == "className" || s.Accepts(a.Name) {
				continue
			}
			out = append(out, describeMissing(in, e, a.Name, a.Value, s))
		}
	}
	return out
}

// needsClassName lists the elements Tomcat creates only from their className.
func needsClassName(e *conf.Element) bool {
	switch e.Name {
	case "Cluster", "Membership", "Receiver", "Interceptor", "Deployer", "ClusterListener", "Transport",
		"Member", "LocalMember", "Valve", "Listener":
		return true
	}
	return false
}
