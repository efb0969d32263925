package gaiconf

import (
	"bytes"
	"net/netip"

	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/golden"
)

func TestParseDebianDefault(t *testing.T) {
	c := golden.Parse(t, Parse, "debian.conf")
	if c.Labels != nil || c.Precedence != nil || c.Scopes != nil {
		t.Fatalf("Debian's gai.conf is all comments; got %+v", c)
	}
}

func TestParse(t *testing.T) {
	in := `# the classic "prefer IPv4" tweak
precedence  ::ffff:0:0/96  100
label ::1/128 0   # trailing comment
scopev4 ::ffff:127.0.0.0/104 14
scopev4 10.0.0.0/8 14
scopev4 ::ffff:10.0.0.0/90 3
label not-an-address 1
precedence ::/0 x
reload yes
`
	c, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := func(es []Entry, pfx string, v, line int) {
		t.Helper()
		for _, e := range es {
			if e.Prefix == netip.MustParsePrefix(pfx) && e.Value == v && e.Line == line {
				return
			}
		}
		t.Errorf("no entry %s=%d (line %d) in %+v", pfx, v, line, es)
	}
	want(c.Precedence, "::ffff:0:0/96", 100, 2)
	want(c.Labels, "::1/128", 0, 3)
	want(c.Scopes, "::ffff:127.0.0.0/104", 14, 4)
	want(c.Scopes, "::ffff:10.0.0.0/104", 14, 5)
	if len(c.Scopes) != 2 || len(c.Labels) != 1 || len(c.Precedence) != 1 {
		t.Errorf("lines glibc refuses were taken: %+v", c)
	}
	s := Sorted(c.Scopes, netip.MustParsePrefix("::ffff:0.0.0.0/96"), 14)
	if len(s) != 3 || s[2].Prefix.Bits() != 96 || s[0].Prefix.Bits() != 104 {
		t.Errorf("Sorted scopes = %+v; want the two /104 then the default /96", s)
	}
}

func FuzzParse(f *testing.F) {
	golden.Seed(f, "*.conf")
	f.Add([]byte("precedence ::ffff:0:0/96 100\nscopev4 127.0.0.0/8 14\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, es := range [][]Entry{c.Labels, c.Precedence, c.Scopes} {
			for _, e := range es {
				if !e.Prefix.IsValid() || e.Value < 0 {
					t.Fatalf("bad entry %+v", e)
				}
			}
		}
	})
}
