package tomcat

import (
	"fmt"
	"strings"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
)

// membership is how the cluster's members find each other, as Tomcat will run it.
type membership struct {
	// Kind is "multicast" (McastService), "static" (StaticMembershipService, or
	// StaticMembershipInterceptor with the multicast service not started), "cloud"
	// (CloudMembershipService) or "other".
	Kind string
	// Multicast reports whether McastService runs (also beside static members, when
	// channelStartOptions do not switch it off).
	Multicast bool
	El        *conf.Element // the <Membership> element (nil: the default McastService)
	// McastService settings, Tomcat's defaults when not written.
	Group                string
	Port, Frequency, TTL int // TTL -1: not set (Java's default, 1)
	DropTime             int
	Bind                 string
	Domain               string
	// Static are the static members; Local is the LocalMember element. Service is set
	// for StaticMembershipService (else StaticMembershipInterceptor's members).
	Static  []staticMember
	Local   *conf.Element
	Service bool
	// StaticEl is the StaticMembershipInterceptor (nil with StaticMembershipService).
	StaticEl *conf.Element
	// Provider is the cloud membership provider.
	Provider string
	// Problems are values Tomcat will not take, with where.
	Problems []string
}

// staticMember is a <Member> of static membership.
type staticMember struct {
	Host string
	Port int
	El   *conf.Element
}

// membershipOf reads the cluster's membership.
func membershipOf(in *Instance, c *conf.Cluster) membership {
	m := membership{El: c.Membership, Group: conf.DefaultGroup, Port: conf.DefaultMcastPort,
		Frequency: conf.DefaultFrequency, DropTime: conf.DefaultDropTime, TTL: -1}
	class := c.MembershipClass()
	switch conf.SimpleName(class) {
	case "McastService":
		m.Kind, m.Multicast = "multicast", c.MembershipStarted()
		if e := c.Membership; e != nil {
			if v, ok := e.Get("address"); ok {
				m.Group = strings.TrimSpace(v)
			}
			m.Port = m.intAttr(in, e, "port", m.Port)
			m.Frequency = m.intAttr(in, e, "frequency", m.Frequency)
			m.DropTime = m.intAttr(in, e, "dropTime", m.DropTime)
			m.TTL = m.intAttr(in, e, "ttl", m.TTL)
			m.Bind = strings.TrimSpace(e.Value("bind"))
			if m.Bind == "" {
				m.Bind = strings.TrimSpace(e.Value("mcastBindAddress"))
			}
			m.Domain = e.Value("domain")
		}
		if si := c.Interceptor("StaticMembershipInterceptor"); si != nil {
			m.Static, m.Local = staticMembers(in, &m, si)
			m.StaticEl = si
			if !m.Multicast {
				m.Kind = "static"
			}
		}
		if !m.Multicast && m.Kind == "multicast" {
			opts, _ := c.StartOptions()
			m.Kind = "none"
			m.Problems = append(m.Problems, fmt.Sprintf("channelStartOptions=%d at %s does not start the membership service and there are no static members: no member is ever found", opts, in.pos(c.El)))
		}
	case "StaticMembershipService":
		m.Kind, m.Service = "static", true
		m.Static, m.Local = staticMembers(in, &m, c.Membership)
	case "CloudMembershipService":
		m.Kind = "cloud"
		m.Provider = "kubernetes"
		if c.Membership != nil {
			if v := c.Membership.Value("membershipProviderClassName"); v != "" {
				m.Provider = v
			}
		}
	default:
		m.Kind = "other"
	}
	return m
}

func (m *membership) intAttr(in *Instance, e *conf.Element, name string, def int) int {
	v, problem := conf.IntAttr(e, name, def)
	if problem != "" {
		m.Problems = append(m.Problems, problem+" at "+in.pos(e)+in.attrFrom(e, name))
	}
	return v
}

func staticMembers(in *Instance, m *membership, parent *conf.Element) ([]staticMember, *conf.Element) {
	var out []staticMember
	for _, e := range parent.All("Member") {
		port := m.intAttr(in, e, "port", -1)
		out = append(out, staticMember{Host: strings.TrimSpace(e.Value("host")), Port: port, El: e})
	}
	return out, last(parent.All("LocalMember"))
}

func last(es []*conf.Element) *conf.Element {
	if len(es) == 0 {
		return nil
	}
	return es[len(es)-1]
}

// receiver is where the cluster receives replication, as Tomcat will bind it.
type receiver struct {
	El *conf.Element
	// Address is the address attribute: "auto" (the default) is getLocalHost().
	Address string
	// Port and AutoBind give the range port .. port+autoBind-1.
	Port, AutoBind int
	Problems       []string
}

// Last is the highest port autoBind may take.
func (r receiver) Last() int { return r.Port + r.AutoBind - 1 }

func receiverOf(in *Instance, c *conf.Cluster) receiver {
	r := receiver{El: c.Receiver, Address: "auto", Port: conf.DefaultRecvPort, AutoBind: conf.DefaultAutoBind}
	e := c.Receiver
	if e == nil {
		return r
	}
	if v, ok := e.Get("address"); ok {
		r.Address = strings.TrimSpace(v)
	} else if v, ok := e.Get("host"); ok {
		r.Address = strings.TrimSpace(v)
	}
	var problem string
	if r.Port, problem = conf.IntAttr(e, "port", r.Port); problem != "" {
		r.Problems = append(r.Problems, problem+" at "+in.pos(e)+in.attrFrom(e, "port"))
	}
	if r.AutoBind, problem = conf.IntAttr(e, "autoBind", r.AutoBind); problem != "" {
		r.Problems = append(r.Problems, problem+" at "+in.pos(e)+in.attrFrom(e, "autoBind"))
	}
	if r.AutoBind <= 0 {
		r.AutoBind = 1 // ReceiverBase.setAutoBind: at least one try
	}
	return r
}
