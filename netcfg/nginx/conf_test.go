package nginx

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestSeed(t *testing.T) {
	b, err := os.ReadFile("testdata/seed-002.conf")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	Walk(f.Directives, func(d Directive, parents []string) {
		if d.Name == "server" && len(parents) > 0 && parents[len(parents)-1] == "upstream" ||
			d.Name == "upstream" || d.Name == "proxy_pass" || d.Name == "error_page" {
			got = append(got, strings.Join(parents, "/")+": "+d.Name+" "+strings.Join(d.Args, " ")+" @"+strconv.Itoa(d.Line))
		}
	})
	want := []string{
		"http: upstream http_stream @3",
		"http/upstream: server 127.0.0.1:8080 @4",
		"http/upstream: server 127.0.0.1:8081 @5",
		"http: upstream https_stream @8",
		"http/upstream: server 127.0.0.1:8443 @9",
		"http/upstream: server 127.0.0.1:8444 @10",
		"http/server/location: proxy_pass http://http_stream @21",
		"http/server: error_page 404 /404.html @24",
		"http/server: error_page 500 502 503 504 /50x.html @27",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var out bytes.Buffer
	if f.Write(&out); !bytes.Equal(out.Bytes(), b) {
		t.Error("does not round-trip")
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, says string }{
		{"http {\n upstream a {\n server x;\n }\n", "never closed"},
		{"worker_processes 1\n", "no ending"},
		{"}\n", "unexpected"},
		{"server_name \"a;\n", "unterminated quote"},
	} {
		if _, err := Parse(strings.NewReader(c.in)); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Parse(%q) = %v; want %q", c.in, err, c.says)
		}
	}
}

func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("testdata/seed-002.conf")
	f.Add(b)
	f.Add([]byte(`location ~ "^/a;b" { return 200 'x\'y'; }`))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if file.Write(&out); !bytes.Equal(out.Bytes(), b) {
			t.Fatal("does not round-trip")
		}
		Walk(file.Directives, func(Directive, []string) {})
	})
}
