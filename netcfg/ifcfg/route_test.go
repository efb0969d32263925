package ifcfg

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

func TestParseRoutes(t *testing.T) {
	tests := []struct {
		file   string
		format Format
		want   []string // dst via gw dev
	}{
		{"keyvalue-gaps.route", FormatKeyValue, []string{"10.20.0.0/16 via 10.0.0.1 dev ", "192.168.50.0/24 via 10.0.0.254 dev "}},
		{"iproute-nofinalnewline.route", FormatIPRoute, []string{"10.20.0.0/16 via 10.0.0.1 dev enp0s8", "192.168.50.0/24 via 10.0.0.254 dev ", "0.0.0.0/0 via 10.0.0.1 dev enp0s8"}},
		{"comments-only.route", Unknown, nil},
	}
	for _, tt := range tests {
		f := mustParse(t, tt.file)
		if f.Format != tt.format {
			t.Errorf("%s: format %v; want %v", tt.file, f.Format, tt.format)
		}
		var got []string
		for _, r := range f.Routes() {
			gw := ""
			if r.Gateway.IsValid() {
				gw = r.Gateway.String()
			}
			got = append(got, strings.TrimSpace(r.Dst.String()+" via "+gw+" dev "+r.Dev))
		}
		if strings.Join(got, "|") != strings.Join(trim(tt.want), "|") {
			t.Errorf("%s: routes %q; want %q", tt.file, got, tt.want)
		}
	}
}

func trim(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, says string }{
		{"ADDRESS0=10.0.0.0\nNETMASK0=255.0.0.0\n10.1.0.0/16 dev eth0\n", "line 3"},
		{"10.1.0.0/16 dev eth0\nADDRESS0=10.0.0.0\n", "line 2"},
		{"ADDRESS0=nope\n", "ADDRESS0"},
		{"ADDRESS0=10.0.0.0\nNETMASK0=255.0.255.0\n", "contiguous"},
		{"NETMASK3=255.0.0.0\n", "ADDRESS3"},
		{"banana dev eth0\n", "line 1"},
		{"10.0.0.0/8 via x\n", "via"},
	}
	for _, tt := range tests {
		if _, err := Parse(strings.NewReader(tt.in)); err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("Parse(%q) = %v; want an error saying %q", tt.in, err, tt.says)
		}
	}
}

// TestRoundTripAndAdd: every sample writes back byte for byte; adding the multicast route
// gives the golden file, in the sample's own format; adding it again changes nothing.
func TestRoundTripAndAdd(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.route")
	for _, path := range files {
		name := filepath.Base(path)
		in, _ := os.ReadFile(path)
		f := mustParse(t, name)
		var out bytes.Buffer
		f.Write(&out)
		if out.String() != string(in) {
			t.Errorf("%s: round trip changed the file:\n%q\nwant\n%q", name, out.String(), in)
		}
		if _, err := f.AddRoute(mc, "enp0s8"); err != nil {
			t.Fatalf("%s: AddRoute: %v", name, err)
		}
		out.Reset()
		f.Write(&out)
		goldenPath := strings.TrimSuffix(path, ".route") + ".added"
		golden.Compare(t, goldenPath, out.Bytes())
		again, err := Parse(bytes.NewReader(out.Bytes()))
		if err != nil || !again.Has(mc, "enp0s8") {
			t.Fatalf("%s: re-parse after add: %v", name, err)
		}
		if _, err := again.AddRoute(mc, "enp0s8"); err != ErrExists {
			t.Errorf("%s: second AddRoute = %v; want ErrExists", name, err)
		}
	}
}

// TestIndexTheReadersReach: ifup-routes and NetworkManager stop at the first missing
// ADDRESSn, so the route goes into the gap (index 1, not 3), and the route after the gap
// comes to life with it and is named.
func TestIndexTheReadersReach(t *testing.T) {
	f := mustParse(t, "keyvalue-gaps.route")
	if f.Live(f.Routes()[1]) {
		t.Fatal("ADDRESS2 after the missing ADDRESS1 is reported applied")
	}
	revived, err := f.AddRoute(mc, "enp0s8")
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := f.find(mc, "enp0s8"); !ok || r.Index != 1 {
		t.Fatalf("added route %+v; want index 1, the gap the readers stop at", r)
	}
	if len(revived) != 1 || revived[0].Index != 2 {
		t.Errorf("revived %+v; want ADDRESS2", revived)
	}
	dead := mustParse(t, "keyvalue-gaps.route")
	dead.routes = append(dead.routes, Route{Dst: mc, Index: 5})
	if dead.Has(mc, "enp0s8") {
		t.Error("a 224/4 route at ADDRESS5 after a gap counts as present")
	}
	if r, gap, ok := dead.Dead(mc, "enp0s8"); !ok || r.Index != 5 || gap != 1 {
		t.Errorf("Dead = %+v, %d, %v; want ADDRESS5 stopped at 1", r, gap, ok)
	}
	for bits, want := range map[int]string{4: "240.0.0.0", 0: "0.0.0.0", 32: "255.255.255.255", 20: "255.255.240.0"} {
		if got := netmask(bits); got != want {
			t.Errorf("netmask(%d) = %s; want %s", bits, got, want)
		}
	}
}

func mustParse(t *testing.T, name string) *RouteFile { return golden.Parse(t, Parse, name) }

func FuzzParse(f *testing.F) {
	for _, name := range []string{"keyvalue-gaps.route", "iproute-nofinalnewline.route", "comments-only.route"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rf, err := Parse(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		rf.Write(&out)
		if out.String() != string(in) {
			t.Fatalf("round trip %q -> %q", in, out.String())
		}
		if _, err := rf.AddRoute(mc, "eth0"); err == nil {
			out.Reset()
			rf.Write(&out)
			again, err := Parse(bytes.NewReader(out.Bytes()))
			if err != nil || !again.Has(mc, "eth0") {
				t.Fatalf("after AddRoute the file does not parse back with the route: %v\n%q", err, out.String())
			}
		}
	})
}
