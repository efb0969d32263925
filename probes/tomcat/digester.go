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

// ignoredClusterElements are the cluster elements the digester matches no rule for
// (digest).
func (in *Instance) ignoredClusterElements() []ignoredElement {
	_, ignored := in.digest()
	return ignored
}

// createdElements are the Engine and cluster elements the digester creates objects for
// and sets attributes on (digest).
func (in *Instance) createdElements() []elementClass {
	created, _ := in.digest()
	return created
}

// ruleFor reports whether ClusterRuleSet of this release has a rule for the path below a
// <Cluster> (an unknown release: every rule of any release).
func (in *Instance) ruleFor(rel string) bool {
	since, ok := clusterRules[rel]
	return ok && (since == nil || in.Version.IsZero() || since.In(in.Version))
}

// digest walks server.xml as Catalina's digester matches it. created: every <Engine>
// (StandardEngine unless its className says), each <Cluster> at Engine or Host level and
// the elements below it a rule of this release matches, with their classes (an element
// without a className is left out: Tomcat refuses it, tomcat.classes says so). ignored:
// every <Cluster> elsewhere, and every element inside a <Cluster> no rule matches (not
// what is inside it: the digester never gets there).
func (in *Instance) digest() (created []elementClass, ignored []ignoredElement) {
	if in.Raw == nil {
		return nil, nil
	}
	add := func(e *conf.Element, def string) {
		class := strings.TrimSpace(e.Value("className"))
		if class == "" {
			class = def
		}
		if class != "" {
			created = append(created, elementClass{e, class})
		}
	}
	var below func(e *conf.Element, path, rel string)
	below = func(e *conf.Element, path, rel string) {
		for _, c := range e.Children {
			r := strings.TrimPrefix(rel+"/"+c.Name, "/")
			if !in.ruleFor(r) {
				ignored = append(ignored, ignoredElement{c, path + "/" + c.Name, in.belongs(c.Name)})
				continue
			}
			add(c, "")
			below(c, path+"/"+c.Name, r)
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
				below(c, p, "")
				continue
			case c.Name == "Cluster":
				ignored = append(ignored, ignoredElement{c, p, "inside <Engine> or <Host>"})
				continue
			}
			walk(c, p)
		}
	}
	walk(in.Raw, in.Raw.Name)
	return created, ignored
}

// belongs says where an element of this name has a rule in this release: "inside
// <Channel>", "directly inside <Cluster>"; a name that differs only in case is named.
func (in *Instance) belongs(name string) string {
	var places []string
	for r := range clusterRules {
		if !in.ruleFor(r) {
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
