package resolve

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// rootEnv is an Env over a temp root; InterfaceAddrs is not reached unless myhostname is
// consulted, which these cases arrange through the host name.
func rootEnv(t *testing.T, files map[string]string, hostname string) *probes.Env {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &probes.Env{Root: root, Hostname: func() (string, error) { return hostname, nil }}
}

func TestLookupOrder(t *testing.T) {
	hosts := "127.0.0.1 localhost\nfd00::7 was1\n10.0.0.1 was1\n10.0.0.2 was2\n"
	tests := []struct {
		name     string
		nsswitch string
		lookup   string
		want     []string
		source   string
		wantErr  bool
	}{
		{"files", "hosts: files dns\n", "was1", []string{"10.0.0.1", "fd00::7"}, "files", false},
		{"no nsswitch: dns then files (dns not live)", "", "was2", []string{"10.0.0.2"}, "files", false},
		{"NOTFOUND=return stops before files", "hosts: dns [NOTFOUND=return] files\n", "was2", nil, "", true},
		{"dns UNAVAIL (root not live) goes on", "hosts: dns [NOTFOUND=return] files\n", "was1", []string{"10.0.0.1", "fd00::7"}, "files", false},
		{"unknown service skipped", "hosts: mdns4_minimal files\n", "was2", []string{"10.0.0.2"}, "files", false},
		{"not found", "hosts: files\n", "nobody", nil, "", true},
	}
	for _, tt := range tests {
		files := map[string]string{"/etc/hosts": hosts}
		if tt.nsswitch != "" {
			files["/etc/nsswitch.conf"] = tt.nsswitch
		}
		r, err := New(rootEnv(t, files, "was1"))
		if err != nil {
			t.Fatal(err)
		}
		if tt.lookup == "was2" && tt.wantErr {
			// a DNS server that knows nothing: NOTFOUND, and the action says return
			r.DNS = func(context.Context, string) ([]netip.Addr, error) { return nil, errors.New("NXDOMAIN") }
		}
		ans, err := r.Lookup(context.Background(), tt.lookup)
		if tt.wantErr {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: err = %v; want ErrNotFound", tt.name, err)
			}
			continue
		}
		var got []string
		for _, a := range ans.Addrs {
			got = append(got, a.String())
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) || ans.Source != tt.source {
			t.Errorf("%s: Lookup(%q) = %v via %q, %v; want %v via %q", tt.name, tt.lookup, got, ans.Source, err, tt.want, tt.source)
		}
	}
}

func TestMalformedNsswitchNamesTheFile(t *testing.T) {
	env := rootEnv(t, map[string]string{"/etc/nsswitch.conf": "hosts: files [NOTFOUND=return\n"}, "x")
	if _, err := New(env); err == nil || !strings.Contains(err.Error(), env.Path("/etc/nsswitch.conf")) {
		t.Fatalf("New = %v; want an error naming the file", err)
	}
}

func TestJavaOrder(t *testing.T) {
	in := []netip.Addr{netip.MustParseAddr("fd00::1"), netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fd00::2"), netip.MustParseAddr("10.0.0.2")}
	got := javaOrder(in)
	want := []netip.Addr{in[1], in[3], in[0], in[2]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("javaOrder = %v; want %v", got, want)
	}
}
