package httpd

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseSeeds(t *testing.T) {
	b, err := os.ReadFile("testdata/jk.conf")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want := []Directive{
		{Name: "JkWorkersFile", Args: []string{"/etc/httpd/conf/workers.properties"}, Line: 3, Context: []string{"IfModule jk_module"}},
		{Name: "JkLogFile", Args: []string{"/etc/httpd/logs/mod_jk.log"}, Line: 4, Context: []string{"IfModule jk_module"}},
		{Name: "JkShmFile", Args: []string{"/etc/httpd/logs/mod_jk.shm"}, Line: 5, Context: []string{"IfModule jk_module"}},
		{Name: "JkMount", Args: []string{"/*", "lb", "#", "이", "부분만", "변경"}, Line: 6, Context: []string{"IfModule jk_module"}},
		{Name: "ServerName", Args: []string{"www.example.com"}, Line: 9, Context: []string{"VirtualHost *:80"}},
		{Name: "JkMount", Args: []string{"/*.jsp", "worker1"}, Line: 10, Context: []string{"VirtualHost *:80"}},
		{Name: "JkMountFile", Args: []string{"conf/uriworkermap.properties"}, Line: 11, Context: []string{"VirtualHost *:80"}},
		{Name: "Options", Args: []string{"Indexes", "FollowSymLinks"}, Line: 12, Context: []string{"VirtualHost *:80"}},
	}
	if !reflect.DeepEqual(f.Directives, want) {
		t.Errorf("directives:\n%+v\nwant\n%+v", f.Directives, want)
	}
	sections := []Section{
		{Name: "IfModule", Args: []string{"jk_module"}, Line: 2, End: 7},
		{Name: "VirtualHost", Args: []string{"*:80"}, Line: 8, End: 14},
	}
	if !reflect.DeepEqual(f.Sections, sections) {
		t.Errorf("sections:\n%+v\nwant\n%+v", f.Sections, sections)
	}
	for i, d := range f.Directives {
		if in := sections[1].Holds(d); in != (i >= 4) {
			t.Errorf("<VirtualHost *:80>.Holds(%s at line %d) = %v", d.Name, d.Line, in)
		}
	}
	var out bytes.Buffer
	if f.Write(&out); !bytes.Equal(out.Bytes(), b) {
		t.Error("does not round-trip")
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, says string }{
		{"<VirtualHost *:80>\nJkMount /* lb\n", "never closed"},
		{"</IfModule>\n", "line 1"},
		{"ServerName \"unterminated\n", "line 1: unterminated quote"},
	} {
		if _, err := Parse(strings.NewReader(c.in)); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Parse(%q) = %v; want %q", c.in, err, c.says)
		}
	}
}

func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("testdata/jk.conf")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if file.Write(&out); !bytes.Equal(out.Bytes(), b) {
			t.Fatal("does not round-trip")
		}
		for _, d := range file.Directives {
			if d.Name == "" || d.Line < 1 {
				t.Fatalf("bad directive %+v", d)
			}
		}
		for _, s := range file.Sections {
			if s.Name == "" || s.Line < 1 || s.End <= s.Line {
				t.Fatalf("bad section %+v", s)
			}
		}
	})
}
