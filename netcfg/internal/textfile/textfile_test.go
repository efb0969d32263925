package textfile

import (
	"bytes"
	"strings"
	"testing"
)

func TestRoundTripAndInsert(t *testing.T) {
	for _, in := range []string{"", "a", "a\n", "a\r\nb\r\n", "\n\n", "x\ny"} {
		l, err := Read(strings.NewReader(in), 100, "file")
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		l.Write(&out)
		if out.String() != in {
			t.Errorf("round trip %q -> %q", in, out.String())
		}
	}
	l, _ := Read(strings.NewReader("a\nb"), 100, "file")
	l.Insert(0, "x")
	l.Insert(len(l.Lines)-1, "z")
	var out bytes.Buffer
	l.Write(&out)
	if out.String() != "a\nx\nb\nz\n" {
		t.Errorf("after inserts: %q", out.String())
	}
	if _, err := Read(strings.NewReader(strings.Repeat("x", 101)), 100, "route file"); err == nil || !strings.Contains(err.Error(), "route file larger than 100 bytes") {
		t.Errorf("oversized: %v", err)
	}
}
