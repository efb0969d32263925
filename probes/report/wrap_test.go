package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/cluster"
)

func TestWrap(t *testing.T) {
	for _, c := range []struct {
		in    string
		width int
		want  string
	}{
		{"short\n", 20, "short\n"},
		{"FAIL  route.multicast  228.0.0.4 would leave via pub0 (default route), not cl0\n", 50,
			"FAIL  route.multicast  228.0.0.4 would leave via\n                       pub0 (default route), not\n                       cl0\n"},
		{"FAIL  route.multicast  leaves via pub0, not cl0\n", 36, // the text starts past half the width
			"FAIL  route.multicast  leaves via\n      pub0, not cl0\n"},
		{"\x1b[31mFAIL\x1b[0m  id  one two three four\n", 20, "\x1b[31mFAIL\x1b[0m  id  one two\n          three four\n"},
		{"    indented prose without columns\n", 20, "    indented prose\n      without\n      columns\n"},
		{"x  /a/very/long/path/that/cannot/fit\n", 20, "x  /a/very/long/path\n   /that/cannot/fit\n"},
		{"no newline at the end", 10, "no newline\n  at the\n  end"},
		{"FAIL  id  text\n", 0, "FAIL  id  text\n"},
	} {
		if got := Wrap(c.in, c.width); got != c.want {
			t.Errorf("Wrap(%q, %d) =\n%q; want\n%q", c.in, c.width, got, c.want)
		}
	}
}

// FuzzWrap: no wrapped line is wider than the width, and no character but spaces and
// line breaks is lost, added or moved.
func FuzzWrap(f *testing.F) {
	f.Add("FAIL  route.multicast  228.0.0.4 would leave via pub0 (default route), not cl0\n", 40)
	f.Add("  \x1b[31mFAIL\x1b[0m  was2  x  "+strings.Repeat("word ", 30), 25)
	f.Fuzz(func(t *testing.T, text string, width int) {
		if width < 10 || width > 300 || strings.ContainsAny(text, "\x1b\t\r\v\f") || !utf8.ValidString(text) {
			return
		}
		got := Wrap(text, width)
		for _, l := range strings.Split(got, "\n") {
			if visibleWidth(l) > width {
				t.Fatalf("line %q is wider than %d", l, width)
			}
		}
		squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if squeeze(got) != squeeze(text) {
			t.Fatalf("Wrap(%q, %d) = %q: the text changed", text, width, got)
		}
	})
}

// recordedCluster is a real run of cluster in the lab (was2's firewall dropping the
// receiver range), as -o json wrote it.
func recordedCluster(t *testing.T) *cluster.Report {
	t.Helper()
	b, err := os.ReadFile("testdata/cluster.json")
	if err != nil {
		t.Fatal(err)
	}
	var rep cluster.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

// TestTextAtWidths: preflight's and cluster's text of a real run, wrapped at 80 and 120
// columns, no line wider; golden files show what an operator reads.
func TestTextAtWidths(t *testing.T) {
	rep := recordedCluster(t)
	was1 := rep.Hosts[1]
	pre := &probes.Report{SchemaVersion: 1, Host: was1.Name, Checks: was1.Checks, Settings: *was1.Settings, Summary: probes.Summarize(was1.Checks)}
	for _, width := range []int{80, 120} {
		for name, render := range map[string]func(*bytes.Buffer) error{
			"preflight": func(b *bytes.Buffer) error { return Text(b, pre, Options{Width: width}) },
			"cluster":   func(b *bytes.Buffer) error { return ClusterText(b, rep, Options{Width: width}) },
		} {
			var b bytes.Buffer
			if err := render(&b); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			if v := lines[len(lines)-1]; name == "preflight" && visibleWidth(v) > width {
				t.Errorf("preflight's verdict at %d is %d wide: %q", width, visibleWidth(v), v)
			}
			got := Wrap(b.String(), width)
			for i, l := range strings.Split(got, "\n") {
				if visibleWidth(l) > width {
					t.Errorf("%s at %d: line %d is %d wide: %q", name, width, i+1, visibleWidth(l), l)
				}
			}
			golden(t, fmt.Sprintf("%s-%d.golden", name, width), []byte(got))
		}
	}
}
