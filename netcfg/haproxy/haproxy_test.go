package haproxy

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseCluster(t *testing.T) {
	b, err := os.ReadFile("testdata/cluster.cfg")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, s := range f.Sections {
		kinds = append(kinds, s.Kind+":"+s.Name)
	}
	if want := []string{"global:", "defaults:", "frontend:www", "backend:tomcats", "listen:stats"}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("sections %v; want %v", kinds, want)
	}
	be := f.Section([]string{"backend", "listen"}, "tomcats")
	servers := be.All("server")
	if len(servers) != 3 || servers[1].Line != 22 ||
		!reflect.DeepEqual(servers[1].Words, []string{"server", "tomcat2", "10.99.0.2:8080", "cookie", "t2", "check", "inter", "2s"}) {
		t.Errorf("servers = %+v", servers)
	}
	if c, ok := be.Last("cookie"); !ok || strings.Join(c.Args(), " ") != "SERVERID insert indirect nocache" {
		t.Errorf("cookie = %+v", c)
	}
	if d := f.DefaultsFor(be); d == nil || d.Line != 6 {
		t.Errorf("defaults of tomcats = %+v; want the section at line 6", d)
	}
	var out bytes.Buffer
	if err := f.Write(&out); err != nil || !bytes.Equal(out.Bytes(), b) {
		t.Errorf("Write does not give the file back:\n%s", out.String())
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"  server s1 10.0.0.1:80 check", []string{"server", "s1", "10.0.0.1:80", "check"}, false},
		{`acl h hdr(host) -i "a b" # comment`, []string{"acl", "h", "hdr(host)", "-i", "a b"}, false},
		{`x 'a#b' "c#d" e\ f`, []string{"x", "a#b", "c#d", "e f"}, false},
		{`x "" y`, []string{"x", "", "y"}, false},
		{"# only a comment", nil, false},
		{`x "open`, nil, true},
		{"\t\t", nil, false},
	} {
		got, err := split(c.in)
		if (err != nil) != c.err || !c.err && !reflect.DeepEqual(got, c.want) {
			t.Errorf("split(%q) = %q, %v; want %q (error %v)", c.in, got, err, c.want, c.err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, says string }{
		{"server s1 1.2.3.4:80\n", `line 1: unknown keyword "server" out of section`},
		{"backend b\n  server s1 \"1.2.3.4:80\n", "line 2: unmatched \" quote"},
		{strings.Repeat("#", MaxSize+1), "larger than"},
	} {
		_, err := Parse(strings.NewReader(c.in))
		var pe *ParseError
		if err == nil || !strings.Contains(err.Error(), c.says) || strings.HasPrefix(c.says, "line") && !errors.As(err, &pe) {
			t.Errorf("Parse(%.40q) = %v; want an error saying %q", c.in, err, c.says)
		}
	}
}

func TestDefaultsFrom(t *testing.T) {
	f, err := Parse(strings.NewReader("defaults base\n  mode http\ndefaults other\n  mode tcp\nbackend b from base\n  server s 1.2.3.4:80\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := f.DefaultsFor(f.Section([]string{"backend"}, "b")); d == nil || d.Name != "base" {
		t.Errorf("defaults of a backend \"from base\" = %+v", d)
	}
}

// FuzzParse: any input parses or fails with an error, never a panic, and what parses is
// written back byte for byte.
func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("testdata/cluster.cfg")
	f.Add(string(b))
	f.Add("backend b\n  server s1 \"a b\" 'c' d\\ e # x\n")
	f.Add("defaults d\nlisten l from d\n")
	f.Fuzz(func(t *testing.T, in string) {
		cfg, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := cfg.Write(&out); err != nil || out.String() != in {
			t.Fatalf("round trip of %q gave %q (%v)", in, out.String(), err)
		}
		for _, s := range cfg.Sections {
			cfg.DefaultsFor(s)
		}
	})
}
