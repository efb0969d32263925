package tomcat

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/golden"
)

func TestParseProperties(t *testing.T) {
	in := "# comment\n! also a comment\n  key1 = value one  \nkey2:value2\nkey3 value3\n" +
		"multi = first \\\n        second\\\n   third\nesc\\ aped\\=key = a\\tb\\u0041\n" +
		"key1 = again\nempty=\ncrlf = yes\r\nlatin = caf\xe9\n"
	p, err := ParseProperties(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"key1": "again", "key2": "value2", "key3": "value3", "multi": "first secondthird",
		"esc aped=key": "a\tbA", "empty": "", "crlf": "yes", "latin": "café"}
	for k, v := range want {
		if got, ok := p.Get(k); !ok || got.Value != v {
			t.Errorf("Get(%q) = %q, %v; want %q", k, got.Value, ok, v)
		}
	}
	if e, _ := p.Get("key1"); e.Line != 10 {
		t.Errorf("key1's last definition is on line %d; want 10", e.Line)
	}
	if e, _ := p.Get("multi"); e.Line != 6 {
		t.Errorf("a continued value's line = %d; want its first line, 6", e.Line)
	}
	if _, err := ParseProperties(strings.NewReader("bad = \\u12")); err == nil {
		t.Error("a short \\u escape parsed; Java refuses it")
	}
}

func TestParseDebianProperties(t *testing.T) {
	p := golden.Parse(t, ParseProperties, "debian-catalina.properties")
	if v, ok := p.Get("common.loader"); !ok || !strings.Contains(v.Value, "${catalina.home}/lib/*.jar") {
		t.Errorf("common.loader = %q", v.Value)
	}
	l := golden.Parse(t, ParseProperties, "debian-logging.properties")
	if v, _ := l.Get("handlers"); !strings.Contains(v.Value, "1catalina.org.apache.juli.AsyncFileHandler") {
		t.Errorf("handlers = %q", v.Value)
	}
}

func TestReplace(t *testing.T) {
	props := map[string]string{"a": "1", "b": "${a}2", "loop": "${loop}", "x:-y": "literal", "self": "${self}x"}
	look := func(k string) (string, bool) { v, ok := props[k]; return v, ok }
	tests := []struct{ in, want string }{
		{"${a}", "1"},
		{"port=${a}${a}", "port=11"},
		{"${b}", "12"},
		{"${missing}", "${missing}"},
		{"${missing:-4000}", "4000"},
		{"${a:-9}", "1"},
		{"${x:-y}", "literal"},
		{"$a ${ $", "$a ${ $"},
		{"${loop}", "${loop}"},
		{"${unclosed", "${unclosed"},
		{"${a${b}}", "${a${b}}"}, // the name ends at the first }, as in IntrospectionUtils
	}
	for _, tt := range tests {
		if got, _ := Replace(tt.in, look); got != tt.want {
			t.Errorf("Replace(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	if got, _ := Replace("${self}", look); !strings.HasPrefix(got, "${self}") || strings.Count(got, "x") != maxReplaceRounds {
		t.Errorf("self-expanding property = %q; want 20 rounds and no more", got)
	}
}

func TestParseShell(t *testing.T) {
	in := `#!/bin/sh
# setenv.sh
JAVA_OPTS="$JAVA_OPTS -Dcluster.port=4010 -Djvm.route=tomcat1"
export CATALINA_OPTS="-Dajp.addr=10.0.0.11 -Dspaced='a b'"
JAVA_OPTS+=" -Dlater=yes"
HOSTIP=$(hostname -I)
if [ -r x ]; then JAVA_OPTS="$JAVA_OPTS -Dinside=if"; fi
`
	sv, err := ParseShell(strings.NewReader(in), "bin/setenv.sh", map[string]string{"JAVA_OPTS": "-Xmx1g"})
	if err != nil {
		t.Fatal(err)
	}
	if v := sv.Vars["JAVA_OPTS"]; v.Value != "-Xmx1g -Dcluster.port=4010 -Djvm.route=tomcat1 -Dlater=yes" || v.Line != 5 {
		t.Errorf("JAVA_OPTS = %+v", v)
	}
	if len(sv.Skipped) != 2 || !strings.Contains(sv.Skipped[0], "setenv.sh:6: HOSTIP is set by a command substitution") {
		t.Errorf("Skipped = %q; want the command substitution and the if", sv.Skipped)
	}
	args, err := JavaArgs(nil, sv.Vars["JAVA_OPTS"].Value, sv.Vars["CATALINA_OPTS"].Value)
	if err != nil {
		t.Fatal(err)
	}
	got := SystemProperties(args)
	want := map[string]string{"cluster.port": "4010", "jvm.route": "tomcat1", "later": "yes", "ajp.addr": "10.0.0.11", "spaced": "a b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SystemProperties = %v; want %v", got, want)
	}
	if _, err := ParseShell(strings.NewReader("if then fi fi ("), "bad.sh", nil); err == nil || !strings.Contains(err.Error(), "bad.sh") {
		t.Errorf("a broken script gave %v; want an error naming it", err)
	}
}

func TestParseWebXML(t *testing.T) {
	w, err := ParseWebXML(strings.NewReader(`<?xml version="1.0"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0" metadata-complete="false">
  <absolute-ordering><name>a</name><others/></absolute-ordering>

  <distributable/>
</web-app>`), "WEB-INF/web.xml")
	if err != nil {
		t.Fatal(err)
	}
	if !w.Distributable || w.DistributableLine != 5 || w.MetadataComplete || w.Ordering == nil || !w.Ordering.Others || !w.Ordering.Admits("zzz") {
		t.Errorf("ParseWebXML = %+v", w)
	}
	f, err := ParseWebXML(strings.NewReader(`<web-fragment><name>lib</name></web-fragment>`), "x.jar!/META-INF/web-fragment.xml")
	if err != nil || !f.Fragment || f.Name != "lib" || f.Distributable {
		t.Errorf("fragment = %+v, %v", f, err)
	}
	conf := golden.Parse(t, func(r io.Reader) (*WebXML, error) { return ParseWebXML(r, "conf/web.xml") }, "debian-conf-web.xml")
	if conf.Distributable {
		t.Error("Debian's conf/web.xml has no <distributable/>")
	}
	o := &AbsoluteOrdering{Names: []string{"a"}}
	if o.Admits("b") || !o.Admits("a") || o.Admits("") {
		t.Error("an ordering without <others/> admits only what it names")
	}
	if _, err := ParseWebXML(strings.NewReader("<Server/>"), "w.xml"); err == nil {
		t.Error("a <Server> parsed as a web.xml")
	}
}

func FuzzParseProperties(f *testing.F) {
	golden.Seed(f, "*.properties")
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProperties(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, e := range p.Entries {
			if got, ok := p.Get(e.Key); !ok || got.Line < e.Line {
				t.Fatalf("Get(%q) lost the last definition", e.Key)
			}
		}
	})
}

func FuzzParseShell(f *testing.F) {
	f.Add([]byte("JAVA_OPTS=\"$JAVA_OPTS -Da=b\"\nexport CATALINA_OPTS='-Dc=d'\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sv, err := ParseShell(bytes.NewReader(b), "f.sh", nil)
		if err != nil {
			return
		}
		for _, v := range sv.Vars {
			JavaArgs(nil, v.Value)
		}
	})
}

func FuzzReplace(f *testing.F) {
	f.Add("${a}${b:-c}$${", "a", "${a}")
	f.Fuzz(func(t *testing.T, in, key, val string) {
		Replace(in, func(k string) (string, bool) { return val, k == key })
	})
}

// TestShellExports: what an export statement names, with or without a value; a plain
// assignment is no export, and "export NAME" keeps the value NAME had.
func TestShellExports(t *testing.T) {
	sv, err := ParseShell(strings.NewReader("A=1\nexport B=2\nC=3\nexport C\nexport D\n"), "setenv.sh", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sv.Exported["A"] || !sv.Exported["B"] || !sv.Exported["C"] || !sv.Exported["D"] {
		t.Errorf("exported = %v; want B, C and D", sv.Exported)
	}
	if sv.Vars["C"].Value != "3" {
		t.Errorf("C = %q after export C; want 3", sv.Vars["C"].Value)
	}
	if _, set := sv.Vars["D"]; set {
		t.Errorf("D is set by a plain export: %+v", sv.Vars["D"])
	}
}
