package probes

import (
	"net/netip"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Settings)
		wantErr string // substring naming the flag; "" for valid
	}{
		{"defaults", func(*Settings) {}, ""},
		{"unicast group", func(s *Settings) { s.Group = netip.MustParseAddr("10.0.0.1") }, "--group"},
		{"ipv6 group", func(s *Settings) { s.Group = netip.MustParseAddr("ff02::1") }, "--group"},
		{"edge of 224/4", func(s *Settings) { s.Group = netip.MustParseAddr("239.255.255.255") }, ""},
		{"past 224/4", func(s *Settings) { s.Group = netip.MustParseAddr("240.0.0.1") }, "--group"},
		{"port 0", func(s *Settings) { s.McastPort = 0 }, "--mcast-port"},
		{"port 65536", func(s *Settings) { s.AJPPort = 65536 }, "--ajp-port"},
		{"no AJP connector", func(s *Settings) { s.AJPPort = 0 }, ""},
		{"negative HTTP port", func(s *Settings) { s.HTTPPort = -1 }, "--http-port"},
		{"unknown membership", func(s *Settings) { s.Membership = "gossip" }, "--membership"},
		{"reversed range", func(s *Settings) { s.ReceiverPorts = PortRange{4100, 4000} }, "--receiver-ports"},
		{"path in iface", func(s *Settings) { s.Iface = "../../etc/passwd" }, "--iface"},
		{"16-char iface", func(s *Settings) { s.Iface = "abcdefghijklmnop" }, "--iface"},
		{"15-char iface", func(s *Settings) { s.Iface = "abcdefghijklmno" }, ""},
		{"peer with space", func(s *Settings) { s.Peers = []string{"was 2"} }, "--peer"},
		{"zero timeout", func(s *Settings) { s.Timeout = 0 }, "--timeout"},
	}
	for _, tt := range tests {
		s := Defaults()
		tt.mod(&s)
		err := s.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: Validate() = %v; want nil", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
			t.Errorf("%s: Validate() = %v; want an error naming %s", tt.name, err, tt.wantErr)
		}
	}
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in      string
		want    PortRange
		wantErr bool
	}{
		{"4000-4100", PortRange{4000, 4100}, false},
		{" 4000 - 4100 ", PortRange{4000, 4100}, false},
		{"4000", PortRange{4000, 4000}, false},
		{"4100-4000", PortRange{}, true},
		{"0-10", PortRange{}, true},
		{"1-65536", PortRange{}, true},
		{"a-b", PortRange{}, true},
		{"", PortRange{}, true},
	}
	for _, tt := range tests {
		got, err := ParsePortRange(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("ParsePortRange(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	in := `# clusterdoctor settings
iface: cl0
group: 228.0.0.5
mcastPort: 45565
receiverPorts: 4000-4010
peers: [was2, 10.0.0.13]
timeout: 5s
`
	s, keys, err := LoadConfig(strings.NewReader(in), Defaults())
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "group,iface,mcastPort,peers,receiverPorts,timeout" {
		t.Errorf("LoadConfig set keys %v; want the six in the file", keys)
	}
	if s.Iface != "cl0" || s.Group.String() != "228.0.0.5" || s.McastPort != 45565 ||
		s.ReceiverPorts != (PortRange{4000, 4010}) || len(s.Peers) != 2 || time.Duration(s.Timeout) != 5*time.Second {
		t.Fatalf("LoadConfig = %+v", s)
	}
	if s.AJPPort != 8009 {
		t.Errorf("unset key changed the default: ajpPort %d", s.AJPPort)
	}
	for _, bad := range []string{"ifcae: cl0\n", "group: nope\n", "receiverPorts: 9-1\n", "timeout: soon\n", "peers: {a: b}\n"} {
		if _, _, err := LoadConfig(strings.NewReader(bad), Defaults()); err == nil {
			t.Errorf("LoadConfig(%q) succeeded; want an error", bad)
		}
	}
	if s, _, err := LoadConfig(strings.NewReader(""), Defaults()); err != nil || s.McastPort != 45564 {
		t.Errorf("empty config: %v, %+v", err, s)
	}
}

// TestShippedConfig: every setting of the packaged example, uncommented, is one
// LoadConfig takes and Validate accepts.
func TestShippedConfig(t *testing.T) {
	b, err := os.ReadFile("../packaging/clusterdoctor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		if i >= 3 { // the header stays a comment
			line = strings.TrimPrefix(line, "# ")
		}
		out = append(out, line)
	}
	s, keys, err := LoadConfig(strings.NewReader(strings.Join(out, "\n")), Defaults())
	if err != nil {
		t.Fatalf("LoadConfig(the example, uncommented): %v", err)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate(the example) = %v", err)
	}
	if len(keys) < 10 || !s.Has(RoleWeb) || s.Routes["tomcat1"] != "was1" {
		t.Errorf("the example gave keys %v, roles %v, routes %v", keys, s.Roles, s.Routes)
	}
}

// TestOnce: what a run asks for several times is found once per Env, copies of the Env
// share it, and an Env built by hand (no memo) finds it every time.
func TestOnce(t *testing.T) {
	env, err := NewEnv(t.TempDir())
	if err != nil {
		t.Skipf("skipped: no netlink socket here: %v", err)
	}
	defer env.Close()
	calls := 0
	find := func() int { calls++; return 42 }
	view := *env
	for _, e := range []*Env{env, env, &view} {
		if got := Once(e, "k", find); got != 42 {
			t.Fatalf("Once = %d", got)
		}
	}
	if calls != 1 {
		t.Errorf("found %d times in one run; want once", calls)
	}
	Once(&Env{}, "k", find)
	Once(&Env{}, "k", find)
	if calls != 3 {
		t.Errorf("an Env without a memo: %d calls in all; want every call to find", calls)
	}
}
