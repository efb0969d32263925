package probes

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Settings are what is checked: the cluster's addresses and ports, from defaults, the
// config file and flags (flags win). They are reported back in the JSON report.
type Settings struct {
	// Iface is the cluster interface; empty means derive it (see the design, section 1).
	Iface string `json:"iface" yaml:"iface"`
	// IfaceSource says how Iface was chosen ("--iface", "host name", "route to peer", ...).
	IfaceSource string `json:"ifaceSource,omitempty" yaml:"-"`
	// Group is the membership multicast group (Tomcat McastService address).
	Group netip.Addr `json:"group" yaml:"group"`
	// McastPort is the membership UDP port.
	McastPort int `json:"mcastPort" yaml:"mcastPort"`
	// ReceiverPorts is the replication receiver TCP range (NioReceiver port..port+autoBind).
	ReceiverPorts PortRange `json:"receiverPorts" yaml:"receiverPorts"`
	// AJPPort is the AJP connector port mod_jk talks to; 0 means there is no AJP
	// connector (the web tier proxies HTTP) and the firewall need not open one.
	AJPPort int `json:"ajpPort" yaml:"ajpPort"`
	// HTTPPort is the HTTP connector a web tier proxying HTTP talks to, required of the
	// firewall when Tomcat has no AJP connector; 0 requires none.
	HTTPPort int `json:"httpPort,omitempty" yaml:"httpPort"`
	// Membership is how the members find each other: "multicast" (McastService, the
	// default), "static" (a fixed member list: no multicast at all) or "cloud".
	Membership string `json:"membership" yaml:"membership"`
	// Peers are the other cluster hosts, names or addresses.
	Peers []string `json:"peers" yaml:"peers"`
	// WebPeers are the cluster's web hosts seen from a Tomcat host: like peers for name
	// resolution, reverse-path filtering and the firewall (their AJP and HTTP requests),
	// but not Tomcat members, so no heartbeat of theirs is expected.
	WebPeers []string `json:"webPeers,omitempty" yaml:"webPeers"`
	// ReceiverAddress is the Receiver address of server.xml ("auto": the host name's);
	// the interface that holds it is the cluster interface.
	ReceiverAddress string `json:"receiverAddress,omitempty" yaml:"-"`
	// McastBind is McastService's bind address of server.xml, when it sets one.
	McastBind string `json:"mcastBind,omitempty" yaml:"-"`
	// Tomcat is the CATALINA_BASE to read (--tomcat); empty means discover it.
	Tomcat string `json:"tomcat,omitempty" yaml:"tomcat"`
	// TomcatHome is CATALINA_HOME (--tomcat-home), when it cannot be found from the base.
	TomcatHome string `json:"tomcatHome,omitempty" yaml:"tomcatHome"`
	// Instances are the Tomcat instances found and read, the first one the source of the
	// settings taken from server.xml.
	Instances []TomcatInstance `json:"tomcatInstances,omitempty" yaml:"-"`
	// Sources says where each setting came from: "flag", "config", "default" or the
	// server.xml element ("conf/server.xml:31").
	Sources map[string]string `json:"sources,omitempty" yaml:"-"`
	// Root is where /etc, /proc and /sys are read.
	Root string `json:"root" yaml:"root"`
	// Timeout is the deadline of the whole run.
	Timeout Duration `json:"timeout" yaml:"timeout"`
	// Routes are jvmRoutes given for web hosts (--route NAME=HOST, config routes: {NAME:
	// HOST}): the jvmRoute of the Tomcat at HOST, for ajp.workers where no clusterdoctor
	// answers there.
	Routes map[string]string `json:"routes,omitempty" yaml:"routes"`
	// WebConfigs are the web servers' configuration files to read (--httpd-conf,
	// --nginx-conf, --haproxy-conf, config webConfigs), in place of discovery.
	WebConfigs []WebConfig `json:"webConfigs,omitempty" yaml:"webConfigs"`
	// Roles are what this host is in the cluster: "was" (a Tomcat host), "web" (a web
	// server balancing over the Tomcats), or both. Empty means detect them (preflight):
	// web where httpd or nginx balances, was where a Tomcat is found or nothing balances.
	Roles []string `json:"roles,omitempty" yaml:"roles"`
	// Node is the process whose network and UTS namespaces this run checks, files read
	// through /proc/PID/root: a node the host's clusterdoctor runs preflight for. 0 for
	// the host itself.
	Node int `json:"nodePid,omitempty" yaml:"-"`
	// Responder (agent only): false keeps the agent from answering peers' mcast-test on
	// the membership port; unset or true answers.
	Responder *bool `json:"-" yaml:"responder"`
	// Agent is where this host's agent serves (its --listen), asked by igmp.querier for
	// what it has heard; empty: the default, 127.0.0.1:9716.
	Agent string `json:"-" yaml:"-"`
}

// DefaultAgentListen is the agent's default --listen address.
const DefaultAgentListen = "127.0.0.1:9716"

// TomcatInstance names one Tomcat found on the host, for the report.
type TomcatInstance struct {
	Base    string `json:"base"`
	Home    string `json:"home,omitempty"`
	Version string `json:"version,omitempty"`
	PID     int    `json:"pid,omitempty"`
	User    string `json:"user,omitempty"`
	// Found says how it was found: "running (pid 4242)", "--tomcat", "installed in ...".
	Found string `json:"found"`
}

// Roles of a host.
const (
	RoleWAS = "was"
	RoleWeb = "web"
)

// Has reports whether the host has the role.
func (s Settings) Has(role string) bool {
	for _, r := range s.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Membership kinds.
const (
	Multicast = "multicast"
	Static    = "static"
	Cloud     = "cloud"
)

// SettingKeys are the settings whose source is reported, by their JSON names.
var SettingKeys = []string{"iface", "group", "mcastPort", "receiverPorts", "ajpPort", "httpPort", "membership", "peers", "roles"}

// Defaults are Tomcat's own defaults for a SimpleTcpCluster with McastService.
func Defaults() Settings {
	return Settings{
		Group:         netip.MustParseAddr("228.0.0.4"),
		McastPort:     45564,
		ReceiverPorts: PortRange{From: 4000, To: 4100},
		AJPPort:       8009,
		Membership:    Multicast,
		Peers:         []string{},
		Root:          "/",
		Timeout:       Duration(10 * time.Second),
	}
}

// multicastNet is 224.0.0.0/4, the IPv4 multicast range.
var multicastNet = netip.MustParsePrefix("224.0.0.0/4")

// UsageError is bad input: the CLI prints it as one line and exits 2.
type UsageError struct {
	Flag, Value, Problem string
}

func (e *UsageError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Flag, e.Problem)
	}
	return fmt.Sprintf("%s %q: %s", e.Flag, e.Value, e.Problem)
}

// Validate checks the settings that need no host access.
func (s Settings) Validate() error {
	if !s.Group.Is4() || !multicastNet.Contains(s.Group) {
		return &UsageError{"--group", s.Group.String(), "not an IPv4 multicast address (want one in 224.0.0.0/4, Tomcat's default is 228.0.0.4)"}
	}
	if s.McastPort < 1 || s.McastPort > 65535 {
		return &UsageError{"--mcast-port", strconv.Itoa(s.McastPort), "port must be between 1 and 65535"}
	}
	for _, p := range []struct {
		flag string
		v    int
	}{{"--ajp-port", s.AJPPort}, {"--http-port", s.HTTPPort}} {
		if p.v < 0 || p.v > 65535 {
			return &UsageError{p.flag, strconv.Itoa(p.v), "port must be between 1 and 65535 (0: none)"}
		}
	}
	switch s.Membership {
	case Multicast, Static, Cloud:
	default:
		return &UsageError{"--membership", s.Membership, "want multicast, static or cloud"}
	}
	if err := s.ReceiverPorts.validate(); err != nil {
		return &UsageError{"--receiver-ports", s.ReceiverPorts.String(), err.Error()}
	}
	for _, r := range s.Roles {
		if r != RoleWAS && r != RoleWeb {
			return &UsageError{"--role", r, "want web, was, or web,was (a host that is both)"}
		}
	}
	if s.Iface != "" {
		if err := ValidIfaceName(s.Iface); err != nil {
			return &UsageError{"--iface", s.Iface, err.Error()}
		}
	}
	for _, p := range s.AllPeers() {
		if strings.TrimSpace(p) == "" || strings.ContainsAny(p, " \t/\\") {
			return &UsageError{"--peer", p, "not a host name or address"}
		}
	}
	if s.Timeout <= 0 {
		return &UsageError{"--timeout", time.Duration(s.Timeout).String(), "must be positive"}
	}
	return nil
}

// ValidIfaceName applies the kernel's rules for interface names (dev_valid_name), so a
// name can be used in paths such as /proc/sys/net/ipv4/conf/NAME safely.
func ValidIfaceName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("not a valid interface name")
	case strings.ContainsAny(name, "/: \t\n"):
		return fmt.Errorf("interface names cannot contain '/', ':' or spaces")
	case len(name) > 15:
		return fmt.Errorf("interface names are at most 15 characters")
	}
	return nil
}

// PortRange is an inclusive TCP/UDP port range, written "4000-4100" (or "4000").
type PortRange struct{ From, To int }

// ParsePortRange parses "A-B" or "A".
func ParsePortRange(s string) (PortRange, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		b = a
	}
	from, err1 := strconv.Atoi(strings.TrimSpace(a))
	to, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return PortRange{}, fmt.Errorf("want a port range such as 4000-4100")
	}
	r := PortRange{from, to}
	return r, r.validate()
}

func (r PortRange) validate() error {
	if r.From < 1 || r.To > 65535 || r.From > r.To {
		return fmt.Errorf("want FROM-TO with 1 <= FROM <= TO <= 65535")
	}
	return nil
}

// Contains reports whether port is in the range.
func (r PortRange) Contains(port int) bool { return port >= r.From && port <= r.To }

func (r PortRange) String() string {
	if r.From == r.To {
		return strconv.Itoa(r.From)
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}

// MarshalText writes "4000-4100" in JSON and YAML.
func (r PortRange) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads "4000-4100".
func (r *PortRange) UnmarshalText(b []byte) error {
	v, err := ParsePortRange(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Duration is a time.Duration written as "10s" in JSON and YAML.
type Duration time.Duration

// MarshalText writes "10s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "10s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("want a duration such as 10s: %w", err)
	}
	*d = Duration(v)
	return nil
}

// maxConfigSize caps the config file; a real one is a few hundred bytes.
const maxConfigSize = 1 << 20

// LoadConfig overlays a YAML config file (same keys as the JSON settings) onto s and
// returns the keys it set. Unknown keys are an error so a typo does not silently fall back
// to a default.
func LoadConfig(r io.Reader, s Settings) (Settings, []string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxConfigSize+1))
	if err != nil {
		return s, nil, err
	}
	if len(b) > maxConfigSize {
		return s, nil, fmt.Errorf("larger than %d bytes", maxConfigSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && err != io.EOF {
		return s, nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var keys map[string]any
	yaml.Unmarshal(b, &keys)
	set := make([]string, 0, len(keys))
	for k := range keys {
		set = append(set, k)
	}
	return s, set, nil
}

// AllPeers are the peers and the web peers: every other host whose traffic this one takes.
func (s Settings) AllPeers() []string {
	if len(s.WebPeers) == 0 {
		return s.Peers
	}
	return append(append([]string{}, s.Peers...), s.WebPeers...)
}
