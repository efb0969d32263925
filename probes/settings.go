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
	// AJPPort is the AJP connector port mod_jk talks to.
	AJPPort int `json:"ajpPort" yaml:"ajpPort"`
	// Peers are the other cluster hosts, names or addresses.
	Peers []string `json:"peers" yaml:"peers"`
	// Root is where /etc, /proc and /sys are read.
	Root string `json:"root" yaml:"root"`
	// Timeout is the deadline of the whole run.
	Timeout Duration `json:"timeout" yaml:"timeout"`
}

// Defaults are Tomcat's own defaults for a SimpleTcpCluster with McastService.
func Defaults() Settings {
	return Settings{
		Group:         netip.MustParseAddr("228.0.0.4"),
		McastPort:     45564,
		ReceiverPorts: PortRange{From: 4000, To: 4100},
		AJPPort:       8009,
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
	for _, p := range []struct {
		flag string
		v    int
	}{{"--mcast-port", s.McastPort}, {"--ajp-port", s.AJPPort}} {
		if p.v < 1 || p.v > 65535 {
			return &UsageError{p.flag, strconv.Itoa(p.v), "port must be between 1 and 65535"}
		}
	}
	if err := s.ReceiverPorts.validate(); err != nil {
		return &UsageError{"--receiver-ports", s.ReceiverPorts.String(), err.Error()}
	}
	if s.Iface != "" {
		if err := ValidIfaceName(s.Iface); err != nil {
			return &UsageError{"--iface", s.Iface, err.Error()}
		}
	}
	for _, p := range s.Peers {
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

// LoadConfig overlays a YAML config file (same keys as the JSON settings) onto s. Unknown
// keys are an error so a typo does not silently fall back to a default.
func LoadConfig(r io.Reader, s Settings) (Settings, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxConfigSize+1))
	if err != nil {
		return s, err
	}
	if len(b) > maxConfigSize {
		return s, fmt.Errorf("larger than %d bytes", maxConfigSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && err != io.EOF {
		return s, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return s, nil
}
