package tomcat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/golden"
)

// dump writes a tree one element a line: "file:line path attr=value...", what a finding
// can point at.
func dump(b *strings.Builder, e *Element, path string) {
	path += "/" + e.Name
	fmt.Fprintf(b, "%s:%d %s", filepath.Base(e.File), e.Line, path)
	for _, a := range e.Attrs {
		fmt.Fprintf(b, " %s=%q", a.Name, a.Value)
		if a.Raw != "" {
			fmt.Fprintf(b, "(raw %q)", a.Raw)
		}
	}
	if e.Text != "" {
		fmt.Fprintf(b, " text=%q", e.Text)
	}
	b.WriteByte('\n')
	for _, c := range e.Children {
		dump(b, c, path)
	}
}

// includeFrom resolves external entities inside testdata.
func includeFrom(systemID, from string) ([]byte, string, error) {
	p := filepath.Join(filepath.Dir(from), systemID)
	b, err := os.ReadFile(p)
	return b, p, err
}

func parseFile(t *testing.T, name string) *Element {
	t.Helper()
	p := filepath.Join("testdata", name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	root, err := ParseXML(bytes.NewReader(b), p, includeFrom)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return root
}

// testProps are the system properties the properties sample is resolved with.
var testProps = map[string]string{"cluster.group": "228.0.0.9", "jvm.route": "node_a",
	"ajp.address": "10.0.0.11", "receiver.address": "10.0.0.11"}

func TestParseGolden(t *testing.T) {
	for _, name := range []string{"seed000.server.xml", "seed001-static.server.xml", "seed003.server.xml", "properties.server.xml"} {
		root := Resolve(parseFile(t, name), func(k string) (string, bool) { v, ok := testProps[k]; return v, ok })
		var b strings.Builder
		dump(&b, root, "")
		golden.Compare(t, filepath.Join("testdata", name+".golden"), []byte(b.String()))
	}
}

func TestCommentedClusterIsNoCluster(t *testing.T) {
	root, err := ParseXML(strings.NewReader(`<Server><Service><Engine name="e">
  <!-- <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster"/> -->
</Engine></Service></Server>`), "server.xml", nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(root)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Services[0].Engine.Cluster(); c != nil {
		t.Fatalf("a commented-out <Cluster> was read as %+v", c.El)
	}
}

func TestMultiLineStartTagLine(t *testing.T) {
	root, err := ParseXML(strings.NewReader("<Server>\n\n  <Receiver\n     port=\"4000\"\n     address=\"auto\"/>\n</Server>\n"), "s.xml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := root.Children[0].Line; got != 3 {
		t.Errorf("<Receiver> line = %d; want 3, where its start tag begins", got)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"":                           "no root element",
		"<Server><Service></Server>": "s.xml:1:",
		"<Server/>\n<Server/>":       "more than one root element",
		"<Server a='1' a='2'/>":      "s.xml:1",
		"<Server>&nosuch;</Server>":  "s.xml:1",
		"<!DOCTYPE s [<!ENTITY x SYSTEM 'y.xml'>]><Server>&x;</Server>": "is not followed here",
		"<Server x='&x;'/>":                "s.xml:1",
		strings.Repeat("<a>", maxDepth+1):  "nested deeper",
		"<Server>\n\n<Cluster>\n</Server>": "s.xml:4",
	}
	for in, says := range cases {
		_, err := ParseXML(strings.NewReader(in), "s.xml", nil)
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("ParseXML(%.40q) = %v; want an error saying %q", in, err, says)
		}
	}
}

func TestIncludeLoopIsBounded(t *testing.T) {
	self := func(string, string) ([]byte, string, error) {
		return []byte(`<Receiver/>&loop;`), "loop.xml", nil
	}
	_, err := ParseXML(strings.NewReader(`<!DOCTYPE s [<!ENTITY loop SYSTEM "loop.xml">]><Server>&loop;</Server>`), "s.xml", self)
	if err == nil || !strings.Contains(err.Error(), "nested deeper than") {
		t.Fatalf("a self-including entity gave %v; want the nesting limit", err)
	}
}

func FuzzParseXML(f *testing.F) {
	golden.Seed(f, "*.xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		root, err := ParseXML(bytes.NewReader(b), "f.xml", nil)
		if err != nil {
			return
		}
		if _, err := NewServer(root); err != nil {
			return
		}
		Resolve(root, func(k string) (string, bool) { return "${" + k + "}", true })
	})
}
