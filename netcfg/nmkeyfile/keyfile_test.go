package nmkeyfile

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/golden"
)

var mc = netip.MustParsePrefix("224.0.0.0/4")

func TestGetAndRoutes(t *testing.T) {
	f := mustParse(t, "rhel9-routes.nmconnection")
	if v, ok := f.Get("connection", "interface-name"); !ok || v != "enp0s8" {
		t.Errorf("interface-name = %q, %v", v, ok)
	}
	rs, err := f.Routes()
	if err != nil || len(rs) != 2 || rs[0].N != 1 || rs[1].N != 3 || rs[1].Gateway.String() != "10.0.0.254" {
		t.Fatalf("Routes = %+v, %v", rs, err)
	}
}

func TestParseErrors(t *testing.T) {
	for in, says := range map[string]string{
		"id=x\n":                      "before any [section]",
		"[connection]\njunk\n":        "line 2",
		"[connection\nid=x\n":         "section header",
		"[ipv4]\nroute1=banana\n":     "not a destination",
		"[ipv4]\nroute1=10.0.0.0/8,x": "gateway",
	} {
		f, err := Parse(strings.NewReader(in))
		if err == nil {
			_, err = f.Routes()
		}
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%q: %v; want an error saying %q", in, err, says)
		}
	}
}

// TestRoundTripAndAdd: every sample writes back byte for byte; adding the multicast route
// matches the golden file; adding it twice is refused with ErrExists.
func TestRoundTripAndAdd(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.nmconnection")
	for _, path := range files {
		name := filepath.Base(path)
		in, _ := os.ReadFile(path)
		f := mustParse(t, name)
		var out bytes.Buffer
		f.Write(&out)
		if out.String() != string(in) {
			t.Errorf("%s: round trip changed the file", name)
		}
		if err := f.AddRoute(mc); err != nil {
			t.Fatalf("%s: AddRoute: %v", name, err)
		}
		out.Reset()
		f.Write(&out)
		goldenPath := strings.TrimSuffix(path, ".nmconnection") + ".added"
		golden.Compare(t, goldenPath, out.Bytes())
		again, err := Parse(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if err := again.AddRoute(mc); err != ErrExists {
			t.Errorf("%s: second AddRoute = %v; want ErrExists", name, err)
		}
	}
}

func mustParse(t *testing.T, name string) *File { return golden.Parse(t, Parse, name) }

func FuzzParse(f *testing.F) {
	golden.Seed(f, "*.nmconnection")
	f.Fuzz(func(t *testing.T, in []byte) {
		kf, err := Parse(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		kf.Write(&out)
		if out.String() != string(in) {
			t.Fatalf("round trip %q -> %q", in, out.String())
		}
		if kf.AddRoute(mc) == nil {
			out.Reset()
			kf.Write(&out)
			again, err := Parse(bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatalf("after AddRoute: %v\n%q", err, out.String())
			}
			if again.AddRoute(mc) != ErrExists {
				t.Fatalf("route not found after AddRoute:\n%q", out.String())
			}
		}
	})
}
