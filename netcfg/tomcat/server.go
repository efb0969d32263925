package tomcat

import (
	"fmt"
	"strconv"
	"strings"
)

// Server is server.xml as Tomcat's digester turns it into objects: the services, their
// connectors and engine, the engine's hosts and the cluster of each. Attribute values are
// those of the element tree given, so resolve ${...} first (Resolve).
type Server struct {
	Root     *Element
	Services []*Service
	// Port is the shutdown port (8005 when absent; -1 none), on Address ("localhost" when
	// absent); PortOffset is added to it and to every connector port (Tomcat 8.5.76,
	// 9.0.13 and later).
	Port, PortOffset int
	Address          string
}

// Service is one <Service>.
type Service struct {
	El         *Element
	Name       string
	Connectors []*Connector
	Engine     *Engine
}

// Connector is one <Connector>.
type Connector struct {
	El *Element
	// Protocol is the attribute as written; "HTTP/1.1" when absent, as Tomcat defaults.
	Protocol string
	// AJP is true for AJP/1.3 and the org.apache.coyote.ajp handler classes.
	AJP bool
	// Port is the listening port; PortErr says why it is not a number.
	Port    int
	PortErr string
	// Address is the address attribute; "" means the protocol's default (all addresses
	// for HTTP; loopback for AJP from 9.0.31, 8.5.51 and 7.0.100 on).
	Address string
	// SecretRequired is the AJP secretRequired attribute; nil when not set (true by default
	// from 9.0.31, 8.5.51 and 7.0.100 on).
	SecretRequired *bool
	// HasSecret is true when secret (or its old name requiredSecret) is set and not empty.
	HasSecret bool
}

// Engine is a service's <Engine>.
type Engine struct {
	El                      *Element
	Name, JvmRoute, Default string
	// Clusters are the <Cluster> elements directly in the engine; Tomcat keeps the last.
	Clusters []*Cluster
	Hosts    []*Host
}

// Cluster returns the cluster Tomcat uses at engine level: the last <Cluster>.
func (e *Engine) Cluster() *Cluster { return last(e.Clusters) }

// Host is an engine's <Host>.
type Host struct {
	El   *Element
	Name string
	// AppBase is the appBase attribute ("webapps" by default), as written.
	AppBase string
	// XMLBase is xmlBase, "" meaning conf/ENGINE/HOST.
	XMLBase string
	// Clusters are the <Cluster> elements in the host; Tomcat keeps the last, and a host
	// without one uses its engine's.
	Clusters []*Cluster
	// Contexts are <Context> elements written in server.xml.
	Contexts []*Element
	// UnpackWARs, DeployOnStartup and AutoDeploy are the deployment switches (default true).
	UnpackWARs, DeployOnStartup, AutoDeploy bool
	// DeployIgnore is the deployIgnore regular expression, "" for none.
	DeployIgnore string
}

// Cluster returns the host's own cluster (the last <Cluster> in it), or nil.
func (h *Host) Cluster() *Cluster { return last(h.Clusters) }

// Cluster is one <Cluster> and the parts Tomcat builds from its children.
type Cluster struct {
	El *Element
	// Level is "Engine" or "Host NAME": where the element sits decides what it covers.
	Level string
	// Manager is the <Manager> template (DeltaManager when absent).
	Manager *Element
	// Channel is <Channel>; the rest are its children.
	Channel      *Element
	Membership   *Element
	Receiver     *Element
	Sender       *Element
	Transport    *Element
	Interceptors []*Element
	// Valves, Deployers, Listeners and ClusterListeners are the cluster's own children.
	Valves, Deployers, Listeners, ClusterListeners []*Element
}

// NewServer builds the object view of a server.xml tree.
func NewServer(root *Element) (*Server, error) {
	if root == nil || root.Name != "Server" {
		name := ""
		if root != nil {
			name = root.Name
		}
		return nil, &ParseError{File: fileOf(root), Line: lineOf(root), Err: fmt.Errorf("root element is <%s>, want <Server>", name)}
	}
	s := &Server{Root: root, Address: "localhost"}
	s.Port, _ = intAttr(root, "port", 8005)
	s.PortOffset, _ = intAttr(root, "portOffset", 0)
	if v, ok := root.Get("address"); ok {
		s.Address = strings.TrimSpace(v)
	}
	for _, se := range root.All("Service") {
		svc := &Service{El: se, Name: se.Value("name")}
		for _, ce := range se.All("Connector") {
			svc.Connectors = append(svc.Connectors, newConnector(ce))
		}
		if ee := last(se.All("Engine")); ee != nil {
			svc.Engine = newEngine(ee)
		}
		s.Services = append(s.Services, svc)
	}
	return s, nil
}

func newConnector(e *Element) *Connector {
	c := &Connector{El: e, Protocol: "HTTP/1.1", Address: e.Value("address")}
	if p, ok := e.Get("protocol"); ok {
		c.Protocol = p
	}
	c.AJP = c.Protocol == "AJP/1.3" || strings.HasPrefix(c.Protocol, "org.apache.coyote.ajp.")
	c.Port, c.PortErr = intAttr(e, "port", -1)
	if v, ok := e.Get("secretRequired"); ok {
		b := v == "true"
		c.SecretRequired = &b
	}
	c.HasSecret = e.Value("secret") != "" || e.Value("requiredSecret") != ""
	return c
}

func newEngine(e *Element) *Engine {
	en := &Engine{El: e, Name: e.Value("name"), JvmRoute: e.Value("jvmRoute"), Default: e.Value("defaultHost")}
	for _, ce := range e.All("Cluster") {
		en.Clusters = append(en.Clusters, newCluster(ce, "Engine"))
	}
	for _, he := range e.All("Host") {
		h := &Host{El: he, Name: he.Value("name"), AppBase: "webapps", XMLBase: he.Value("xmlBase"),
			Contexts: he.All("Context"), DeployIgnore: he.Value("deployIgnore"),
			UnpackWARs: boolAttr(he, "unpackWARs", true), DeployOnStartup: boolAttr(he, "deployOnStartup", true),
			AutoDeploy: boolAttr(he, "autoDeploy", true)}
		if v, ok := he.Get("appBase"); ok {
			h.AppBase = v
		}
		for _, ce := range he.All("Cluster") {
			h.Clusters = append(h.Clusters, newCluster(ce, "Host "+h.Name))
		}
		en.Hosts = append(en.Hosts, h)
	}
	return en
}

func newCluster(e *Element, level string) *Cluster {
	c := &Cluster{El: e, Level: level, Manager: last(e.All("Manager")), Channel: last(e.All("Channel")),
		Valves: e.All("Valve"), Deployers: e.All("Deployer"), Listeners: e.All("Listener"),
		ClusterListeners: e.All("ClusterListener")}
	if ch := c.Channel; ch != nil {
		c.Membership, c.Receiver, c.Sender = last(ch.All("Membership")), last(ch.All("Receiver")), last(ch.All("Sender"))
		c.Interceptors = ch.All("Interceptor")
		if c.Sender != nil {
			c.Transport = last(c.Sender.All("Transport"))
		}
	}
	return c
}

// ClassName is the class Tomcat instantiates for a cluster element: the className
// attribute, or the default the element has when it is absent ("" if it has none).
func ClassName(e *Element) string {
	if v, ok := e.Get("className"); ok {
		return strings.TrimSpace(v)
	}
	switch e.Name {
	case "Cluster", "Membership", "Receiver", "Interceptor", "Valve", "Deployer", "Listener",
		"ClusterListener", "Transport", "Sender", "Channel", "Member", "LocalMember":
		return "" // "MUST be specified in the element": Tomcat refuses the element
	case "Manager":
		return "org.apache.catalina.session.StandardManager" // a Context's default
	}
	return ""
}

// Defaults Tomcat gives a cluster element that leaves them out (SimpleTcpCluster,
// GroupChannel's ChannelCoordinator, ReceiverBase, McastService).
const (
	DefaultManager    = "org.apache.catalina.ha.session.DeltaManager"
	DefaultMembership = "org.apache.catalina.tribes.membership.McastService"
	DefaultReceiver   = "org.apache.catalina.tribes.transport.nio.NioReceiver"
	DefaultGroup      = "228.0.0.4"
	DefaultMcastPort  = 45564
	DefaultFrequency  = 500
	DefaultDropTime   = 3000
	DefaultRecvPort   = 4000
	DefaultAutoBind   = 100
)

// Channel start options (org.apache.catalina.tribes.Channel): membership runs only when
// the cluster's channelStartOptions include the membership bits.
const (
	startMembershipRx = 4
	startMembershipTx = 8
	startDefault      = 15
)

// StartOptions is the cluster's channelStartOptions (15, everything, by default).
func (c *Cluster) StartOptions() (int, string) {
	return intAttr(c.El, "channelStartOptions", startDefault)
}

// MembershipStarted reports whether channelStartOptions start the membership service.
func (c *Cluster) MembershipStarted() bool {
	v, _ := c.StartOptions()
	return v&(startMembershipRx|startMembershipTx) != 0
}

// ManagerClass is the class of the cluster's manager template.
func (c *Cluster) ManagerClass() string {
	if c.Manager == nil {
		return DefaultManager
	}
	return ClassName(c.Manager)
}

// MembershipClass is the class of the channel's membership service.
func (c *Cluster) MembershipClass() string {
	if c.Membership == nil {
		return DefaultMembership
	}
	return ClassName(c.Membership)
}

// ReceiverClass is the class of the channel's receiver.
func (c *Cluster) ReceiverClass() string {
	if c.Receiver == nil {
		return DefaultReceiver
	}
	return ClassName(c.Receiver)
}

// InterceptorClasses lists the channel's interceptors in order; Tomcat adds
// MessageDispatchInterceptor and TcpFailureDetector when none is configured.
func (c *Cluster) InterceptorClasses() []string {
	if len(c.Interceptors) == 0 {
		return []string{"org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor",
			"org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"}
	}
	out := make([]string, len(c.Interceptors))
	for i, e := range c.Interceptors {
		out[i] = ClassName(e)
	}
	return out
}

// Interceptor returns the first interceptor whose class has the simple name, or nil.
func (c *Cluster) Interceptor(simple string) *Element {
	for _, e := range c.Interceptors {
		if SimpleName(ClassName(e)) == simple {
			return e
		}
	}
	return nil
}

// SimpleName is the class name without its package.
func SimpleName(class string) string {
	return class[strings.LastIndexByte(class, '.')+1:]
}

// Elements lists every element of the cluster that names a class, in document order:
// what must exist in the installed jars for Tomcat to start the cluster.
func (c *Cluster) Elements() []*Element {
	var out []*Element
	var walk func(e *Element)
	walk = func(e *Element) {
		out = append(out, e)
		for _, k := range e.Children {
			walk(k)
		}
	}
	walk(c.El)
	return out
}

// intAttr reads an integer attribute the way IntrospectionUtils sets an int property: a
// value that is not a number is refused (Tomcat logs a warning) and the default stays.
func intAttr(e *Element, name string, def int) (int, string) {
	v, ok := e.Get(name)
	if !ok {
		return def, ""
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return def, fmt.Sprintf("%s=%q is not a number (Tomcat ignores it and keeps %d)", name, v, def)
	}
	return n, ""
}

// IntAttr is intAttr for callers outside the package: the value, or def with the reason.
func IntAttr(e *Element, name string, def int) (int, string) { return intAttr(e, name, def) }

// boolAttr reads a boolean property: Java's Boolean.parseBoolean, "true" in any case.
func boolAttr(e *Element, name string, def bool) bool {
	v, ok := e.Get(name)
	if !ok {
		return def
	}
	return strings.EqualFold(strings.TrimSpace(v), "true")
}

// BoolAttr is boolAttr for callers outside the package.
func BoolAttr(e *Element, name string, def bool) bool { return boolAttr(e, name, def) }

func last[T any](s []*T) *T {
	if len(s) == 0 {
		return nil
	}
	return s[len(s)-1]
}

func fileOf(e *Element) string {
	if e == nil {
		return ""
	}
	return e.File
}

func lineOf(e *Element) int {
	if e == nil {
		return 0
	}
	return e.Line
}

// Resolve returns a copy of the tree with Tomcat's ${...} replacement applied to every
// attribute value and text, as the digester does while it reads; an attribute that
// changed keeps what was written in Raw.
func Resolve(root *Element, lookup Lookup) *Element {
	if root == nil {
		return nil
	}
	out := *root
	out.Attrs = make([]Attr, len(root.Attrs))
	for i, a := range root.Attrs {
		v, _ := Replace(a.Value, lookup)
		out.Attrs[i] = Attr{Name: a.Name, Value: v, Raw: rawIfChanged(a.Value, v)}
	}
	out.Text, _ = Replace(root.Text, lookup)
	out.Children = make([]*Element, len(root.Children))
	for i, c := range root.Children {
		out.Children[i] = Resolve(c, lookup)
	}
	return &out
}

func rawIfChanged(raw, v string) string {
	if raw == v {
		return ""
	}
	return raw
}
