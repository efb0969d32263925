package preflight

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// TestProbeTimeoutsFitTheDefault: every probe's own deadline is below the default
// --timeout, so one slow check cannot eat the whole run's budget.
func TestProbeTimeoutsFitTheDefault(t *testing.T) {
	global := time.Duration(probes.Defaults().Timeout)
	seen := map[string]bool{}
	for _, p := range Checks(probes.Defaults(), Choice{}, nil) {
		if p.Timeout() <= 0 || p.Timeout() >= global {
			t.Errorf("%s: timeout %s; want 0 < t < %s", p.ID(), p.Timeout(), global)
		}
		if seen[p.ID()] {
			t.Errorf("duplicate id %s", p.ID())
		}
		seen[p.ID()] = true
	}
}

// envIn builds an Env over host h's namespace, with /etc under a temp root.
func envIn(t *testing.T, h *lab.Host, hostname, hosts string) *probes.Env {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/hosts"), []byte(hosts), 0o644)
	os.WriteFile(filepath.Join(root, "etc/nsswitch.conf"), []byte("hosts: files\n"), 0o644)
	return &probes.Env{Root: root, Netlink: h.NL(), Now: time.Now,
		Hostname: func() (string, error) { return hostname, nil }}
}

func TestClusterIfaceInLab(t *testing.T) {
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddPublic()
	ctx := context.Background()
	tests := []struct {
		name      string
		hosts     string
		peers     []string
		iface     string
		want      string
		wantGuess bool
		wantErr   bool
		receiver  string
		live      bool // Root "/": the tree is the running host's
	}{
		{"given", "", nil, "pub0", "pub0", false, false, "", false},
		{"given but missing", "", nil, "eth9", "", false, true, "", true},
		{"given, missing, under another root: taken as given", "", nil, "eth9", "eth9", false, false, "", false},
		{"host name address", "10.99.0.1 was1\n", nil, "", "cl0", false, false, "", false},
		{"host name on loopback, peer route", "127.0.1.1 was1\n10.99.0.2 was2\n", []string{"was2"}, "", "cl0", false, false, "", false},
		{"peer by address", "", []string{"10.99.0.3"}, "", "cl0", false, false, "", false},
		{"only the default route", "127.0.1.1 was1\n", nil, "", "pub0", true, false, "", false},
		{"Receiver address of server.xml", "127.0.1.1 was1\n", nil, "", "cl0", false, false, "10.99.0.1", false},
		{"Receiver address nobody holds: on to the host name", "10.99.1.1 was1\n", nil, "", "pub0", false, false, "10.99.0.77", false},
	}
	for _, tt := range tests {
		s := probes.Defaults()
		s.Iface, s.Peers, s.ReceiverAddress = tt.iface, tt.peers, tt.receiver
		env := envIn(t, a, "was1", tt.hosts)
		if tt.live {
			env.Root = "/"
		}
		got, err := ClusterIface(ctx, env, s)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v; wantErr %v", tt.name, err, tt.wantErr)
			continue
		}
		if absent := tt.iface == "eth9"; got.Absent != (absent && !tt.wantErr) {
			t.Errorf("%s: Absent = %v", tt.name, got.Absent)
		}
		if got.Iface != tt.want || got.Guess != tt.wantGuess {
			t.Errorf("%s: ClusterIface = %+v; want %s (guess %v)", tt.name, got, tt.want, tt.wantGuess)
		}
	}
}
