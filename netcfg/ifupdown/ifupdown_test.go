package ifupdown

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/golden"
)

var mc = netip.MustParsePrefix("224.0.0.0/4")

func mustParse(t *testing.T, name string) *File { return golden.Parse(t, Parse, name) }

// ifaces names the interface each sample's route goes to.
var ifaces = map[string]string{
	"debian-static.interfaces":       "enp0s8",
	"no-options.interfaces":          "cl0",
	"crlf-nofinalnewline.interfaces": "cl0",
	"old-route.interfaces":           "eth1",
}

// TestRoundTripAndAdd: each sample writes back byte for byte; the added line matches the
// golden file (after the last option, in the inet stanza, indented like its options); a
// second add is ErrExists.
func TestRoundTripAndAdd(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.interfaces")
	if len(files) != len(ifaces) {
		t.Fatalf("samples %v, table %v", files, ifaces)
	}
	for _, p := range files {
		name := filepath.Base(p)
		in, _ := os.ReadFile(p)
		f := mustParse(t, name)
		var out bytes.Buffer
		f.Write(&out)
		if out.String() != string(in) {
			t.Errorf("%s: round trip changed the file", name)
		}
		err := f.AddRoute(ifaces[name], mc)
		if name == "old-route.interfaces" {
			if !errors.Is(err, ErrExists) {
				t.Errorf("%s: the route add -net ... netmask form is the route: got %v", name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out.Reset()
		f.Write(&out)
		goldenPath := strings.TrimSuffix(p, ".interfaces") + ".added"
		golden.Compare(t, goldenPath, out.Bytes())
		if err := f.AddRoute(ifaces[name], mc); !errors.Is(err, ErrExists) {
			t.Errorf("%s: second AddRoute = %v; want ErrExists", name, err)
		}
	}
}

func TestStanzasAndSources(t *testing.T) {
	f := mustParse(t, "debian-static.interfaces")
	if !f.Has("enp0s8") || !f.Has("lo") || f.Has("enp0s9") {
		t.Error("Has")
	}
	if s := f.Sources(); len(s) != 1 || s[0].Directory || s[0].Pattern != "/etc/network/interfaces.d/*" {
		t.Errorf("Sources = %+v", s)
	}
	if s := mustParse(t, "crlf-nofinalnewline.interfaces").Sources(); len(s) != 1 || !s[0].Directory {
		t.Errorf("Sources = %+v", s)
	}
	if err := mustParse(t, "no-options.interfaces").AddRoute("eth9", mc); !errors.Is(err, ErrNoStanza) {
		t.Errorf("AddRoute to a missing stanza = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	golden.ParseErrors(t, Parse, map[string]string{
		"iface eth0 inet\n":            "line 1",
		"auto lo\nsource\n":            "line 2: source without a path",
		strings.Repeat("#", MaxSize+1): "larger than",
	})
}

func FuzzParse(f *testing.F) {
	golden.Seed(f, "*.interfaces")
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Parse(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		file.Write(&out)
		if !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("round trip changed %q", in)
		}
		if err := file.AddRoute("cl0", mc); err == nil && !file.HasRoute("cl0", mc) {
			t.Fatalf("added the route but it is not there: %q", in)
		}
	})
}
