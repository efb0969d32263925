package tomcat

import (
	"fmt"
	"slices"
	"strings"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
)

// clusterAt are the paths where Catalina's digester adds ClusterRuleSet
// (Catalina.createStartDigester): a <Cluster> anywhere else matches no rule.
var clusterAt = []string{"Server/Service/Engine/Cluster", "Server/Service/Engine/Host/Cluster"}

// clusterRules are the paths below a <Cluster> that ClusterRuleSet gives a rule (apache/tomcat
// java/org/apache/catalina/ha/ClusterRuleSet.java, every branch from 7.0.x), with the
// releases that have the ones added later (nil: every release). The digester creates
// nothing for an element no rule matches, and nothing for what is inside it; Tomcat
// logs "No rules found matching [PATH]" and runs without it.
var clusterRules = map[string]Since{
	"Manager":                         nil,
	"Manager/SessionIdGenerator":      nil,
	"Channel":                         nil,
	"Channel/Membership":              nil,
	"Channel/Membership/LocalMember":  {"9.0": 11}, // StaticMembershipService's
	"Channel/Membership/Member":       {"9.0": 11},
	"Channel/MembershipListener":      nil,
	"Channel/Sender":                  nil,
	"Channel/Sender/Transport":        nil,
	"Channel/Receiver":                nil,
	"Channel/Interceptor":             nil,
	"Channel/Interceptor/LocalMember": nil,
	"Channel/Interceptor/Member":      nil,
	"Channel/ChannelListener":         nil,
	"Valve":                           nil,
	"Deployer":                        nil,
	"Listener":                        nil,
	"ClusterListener":                 nil,
}

// ignoredElement is a cluster element Tomcat's digester matches no rule for.
type ignoredElement struct {
	El *conf.Element
	// Path is the digester's match for it ("Server/Service/Engine/Cluster/Interceptor").
	Path string
	// Belongs says where an element of that name has a rule ("inside <Channel>"); "" when
	// none has.
	Belongs string
}

// ignoredClusterElements walks server.xml as the digester matches it: every <Cluster>
// outside Engine and Host level, and every element inside a <Cluster> that no rule of
// this release matches (not what is inside it: the digester never gets there).
func (in *Instance) ignoredClusterElements() []ignoredElement {
	if in.Raw == nil {
		return nil
	}
	var out []ignoredElement
	var walk func(e *conf.Element, path string)
	walk = func(e *conf.Element, path string) {
		for _, c := range e.Children {
			p := path + "/" + c.Name
			if c.Name != "Cluster" {
				walk(c, p)
				continue
			}
			if !slices.Contains(clusterAt, p) {
				out = append(out, ignoredElement{c, p, "inside <Engine> or <Host>"})
				continue
			}
			out = append(out, in.ignoredBelow(c, p, "")...)
		}
	}
	walk(in.Raw, in.Raw.Name)
	return out
}

// ignoredBelow lists the children of a cluster element (at rel below the <Cluster>) that
// no rule matches, and what is ignored below those that do.
func (in *Instance) ignoredBelow(e *conf.Element, path, rel string) []ignoredElement {
	var out []ignoredElement
	for _, c := range e.Children {
		r := strings.TrimPrefix(rel+"/"+c.Name, "/")
		if since, ok := clusterRules[r]; ok && (since == nil || in.Version.IsZero() || since.In(in.Version)) {
			out = append(out, in.ignoredBelow(c, path+"/"+c.Name, r)...)
			continue
		}
		out = append(out, ignoredElement{c, path + "/" + c.Name, in.belongs(c.Name)})
	}
	return out
}

// belongs says where an element of this name has a rule in this release: "inside
// <Channel>", "directly inside <Cluster>"; a name that differs only in case is named.
func (in *Instance) belongs(name string) string {
	var places []string
	for r, since := range clusterRules {
		if since != nil && !in.Version.IsZero() && !since.In(in.Version) {
			continue
		}
		parent, last := "", r
		if i := strings.LastIndexByte(r, '/'); i >= 0 {
			parent, last = r[:i], r[i+1:]
		}
		if !strings.EqualFold(last, name) {
			continue
		}
		place := "directly inside <Cluster>"
		if parent != "" {
			place = "inside <" + strings.ReplaceAll(parent, "/", "><") + ">"
		}
		if last != name {
			place = fmt.Sprintf("spelt <%s>, %s", last, place)
		}
		places = append(places, place)
	}
	slices.Sort(places)
	return strings.Join(places, " or ")
}

// describe names an ignored element with its class, where it has one.
func (g ignoredElement) describe(in *Instance) string {
	what := "<" + g.El.Name
	if cls, ok := g.El.Get("className"); ok {
		what += fmt.Sprintf(" className=%q", cls)
	}
	what += ">"
	s := fmt.Sprintf("Tomcat ignores %s at %s: no digester rule matches %s", what, in.pos(g.El), g.Path)
	if g.Belongs != "" {
		s += " (it belongs " + g.Belongs + ")"
	}
	return s
}

// elementClass is an element the digester creates an object for, and that object's class.
type elementClass struct {
	el    *conf.Element
	class string
}

// createdElements are the Engine and cluster elements the digester creates objects for
// and sets attributes on, with their classes: every <Engine> (StandardEngine unless its
// className says), and each <Cluster> at Engine or Host level with the elements below it
// that a rule of this release matches. An element without a className is left out (Tomcat
// refuses it; tomcat.classes says so).
func (in *Instance) createdElements() []elementClass {
	if in.Raw == nil {
		return nil
	}
	var out []elementClass
	add := func(e *conf.Element, def string) {
		class := strings.TrimSpace(e.Value("className"))
		if class == "" {
			class = def
		}
		if class != "" {
			out = append(out, elementClass{e, class})
		}
	}
	var below func(e *conf.Element, rel string)
	below = func(e *conf.Element, rel string) {
		for _, c := range e.Children {
			r := strings.TrimPrefix(rel+"/"+c.Name, "/")
			if since, ok := clusterRules[r]; ok && (since == nil || in.Version.IsZero() || since.In(in.Version)) {
				add(c, "")
				below(c, r)
			}
		}
	}
	var walk func(e *conf.Element, path string)
	walk = func(e *conf.Element, path string) {
		for _, c := range e.Children {
			p := path + "/" + c.Name
			switch {
			case p == "Server/Service/Engine":
				add(c, "org.apache.catalina.core.StandardEngine")
			case c.Name == "Cluster" && slices.Contains(clusterAt, p):
				add(c, "")
				below(c, "")
				continue
			}
			walk(c, p)
		}
	}
	walk(in.Raw, in.Raw.Name)
	return out
}
