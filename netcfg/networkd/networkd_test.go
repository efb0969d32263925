package networkd

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

func mustParse(t *testing.T, name string) *File { return golden.Parse(t, Parse, name) }

// TestRoundTrip: every sample writes back byte for byte (CRLF, continuation, no final newline).
func TestRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.network")
	if len(files) < 3 {
		t.Fatalf("samples missing: %v", files)
	}
	for _, p := range files {
		in, _ := os.ReadFile(p)
		var out bytes.Buffer
		mustParse(t, filepath.Base(p)).Write(&out)
		if out.String() != string(in) {
			t.Errorf("%s: round trip changed the file:\n%q\nwant\n%q", p, out.String(), in)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		file, iface string
		want        bool
	}{
		{"10-cluster.network", "enp0s8", true},
		{"10-cluster.network", "cl0", true},
		{"10-cluster.network", "eth0", false},
		{"negated-crlf-continued.network", "eth0", false},
		{"negated-crlf-continued.network", "wlan0", false},
		{"negated-crlf-continued.network", "cl0", true},
		{"match-mac.network", "anything", true},
	} {
		if got := mustParse(t, tc.file).Match().MatchesName(tc.iface); got != tc.want {
			t.Errorf("%s matches %s = %v; want %v", tc.file, tc.iface, got, tc.want)
		}
	}
	if o := mustParse(t, "match-mac.network").Match().Other; strings.Join(o, ",") != "MACAddress,Type" {
		t.Errorf("Other = %v", o)
	}
}

func TestRoutes(t *testing.T) {
	f := mustParse(t, "10-cluster.network")
	rs := f.Routes()
	if len(rs) != 2 || rs[0].Destination != "10.20.0.0/16" || rs[0].Gateway != "10.0.0.254" || rs[1].Gateway != "10.0.0.1" {
		t.Fatalf("Routes = %+v", rs)
	}
	if f.HasRoute(mc) {
		t.Error("10-cluster.network has no multicast route")
	}
	if !mustParse(t, "negated-crlf-continued.network").HasRoute(mc) {
		t.Error("negated-crlf-continued.network routes 224.0.0.0/4")
	}
}

// TestDropIn: the drop-in is a valid file of its own that has the route, and matches the
// golden copy.
func TestDropIn(t *testing.T) {
	b := DropIn(netip.MustParsePrefix("224.1.2.3/4"))
	want, err := os.ReadFile("testdata/dropin.conf")
	if err != nil || string(b) != string(want) {
		t.Fatalf("DropIn =\n%s\nwant\n%s (%v)", b, want, err)
	}
	f, err := Parse(bytes.NewReader(b))
	if err != nil || !f.HasRoute(mc) || f.Routes()[0].Scope != "link" {
		t.Fatalf("drop-in does not parse back to the route: %v %+v", err, f)
	}
}

func TestParseErrors(t *testing.T) {
	golden.ParseErrors(t, Parse, map[string]string{
		"Name=x\n":                     "before any [section]",
		"[Match]\njunk\n":              "line 2",
		"[Match\nName=x\n":             "section header",
		"[Match]\n=x\n":                "not Key=Value",
		strings.Repeat("#", MaxSize+1): "larger than",
	})
}

func FuzzParse(f *testing.F) {
	golden.Seed(f, "*")
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Parse(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		file.Write(&out)
		if !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("round trip changed %q to %q", in, out.Bytes())
		}
		file.Match().MatchesName("cl0")
		file.HasRoute(mc)
	})
}
