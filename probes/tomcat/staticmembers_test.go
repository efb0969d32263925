package tomcat

import (
	"strings"
	"testing"
)

// TestParseUniqueID: a uniqueId as StaticMember.setUniqueId reads it.
func TestParseUniqueID(t *testing.T) {
	for _, c := range []struct{ in, err string }{
		{"{0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}", ""},
		{"{-128,127,0,0,0,0,0,0,0,0,0,0,0,0,0,+1}", ""},
		{"{1,2,3}", "it has 3 bytes"},
		{"{0, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}", `" 1" is not a byte`},
		{"{128,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}", `"128" is not a byte`},
		{"0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15", `does not start with "{"`},
		{"{0,,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}", ""}, // StringTokenizer skips empty tokens
	} {
		_, err := parseUniqueID(c.in)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("parseUniqueID(%q) = %v; want %q", c.in, err, c.err)
		}
	}
}

func FuzzParseUniqueID(f *testing.F) {
	f.Add("{0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}")
	f.Add("{1,2")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseUniqueID(s)
		if err == nil && len(id) != 16 {
			t.Fatalf("%q: %d bytes accepted", s, len(id))
		}
	})
}
