package hosts

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseLines(t *testing.T) {
	tests := []struct {
		in          string
		wantAddr    string // "" for non-entry lines
		wantNames   []string
		wantProblem string
	}{
		{"127.0.0.1 localhost", "127.0.0.1", []string{"localhost"}, ""},
		{"  10.0.0.1\twas1 was1.example.com  # c", "10.0.0.1", []string{"was1", "was1.example.com"}, ""},
		{"# 10.0.0.1 was1", "", nil, ""},
		{"", "", nil, ""},
		{"   \t ", "", nil, ""},
		{"10.0.0.1", "", nil, "address without a name"},
		{"was1 10.0.0.1", "", nil, `"was1" is not an IP address`},
		{"::ffff:10.0.0.1 mapped", "10.0.0.1", []string{"mapped"}, ""},
		{"fe80::1%eth0 ll", "fe80::1%eth0", []string{"ll"}, ""},
		{"10.0.0.1#x was1", "", nil, "address without a name"},
		{"10.0.0.1 was1\r", "10.0.0.1", []string{"was1"}, ""},
	}
	for _, tt := range tests {
		f, err := Parse(strings.NewReader(tt.in))
		if err != nil {
			t.Fatalf("Parse(%q) error %v", tt.in, err)
		}
		if len(f.Lines) != 1 && tt.in != "" {
			t.Fatalf("Parse(%q) = %d lines; want 1", tt.in, len(f.Lines))
		}
		if tt.in == "" {
			continue
		}
		l := f.Lines[0]
		gotAddr := ""
		if l.IsEntry() {
			gotAddr = l.Addr.String()
		}
		if gotAddr != tt.wantAddr || !reflect.DeepEqual(namesOrNil(l), tt.wantNames) || l.Problem != tt.wantProblem {
			t.Errorf("Parse(%q) = addr %q names %q problem %q; want %q %q %q", tt.in, gotAddr, l.Names, l.Problem, tt.wantAddr, tt.wantNames, tt.wantProblem)
		}
	}
}

func namesOrNil(l Line) []string {
	if !l.IsEntry() {
		return nil
	}
	return l.Names
}

func TestLookup(t *testing.T) {
	f := mustParseFile(t, "testdata/cluster.hosts")
	tests := []struct {
		name string
		want []string
	}{
		{"was1", []string{"10.0.0.34", "192.168.0.24"}}, // file order, both lines
		{"WAS1", []string{"10.0.0.34", "192.168.0.24"}}, // case-insensitive
		{"was2.example.com", []string{"10.0.0.33"}},
		{"web", []string{"10.0.0.32"}},
		{"web2", nil}, // on a malformed line: glibc ignores it
		{"localhost", []string{"127.0.0.1", "::1"}},
		{"tomcat1", nil}, // only in a comment
	}
	for _, tt := range tests {
		var got []string
		for _, a := range f.Lookup(tt.name) {
			got = append(got, a.String())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Lookup(%q) = %v; want %v", tt.name, got, tt.want)
		}
	}
	if got := f.Names(netip.MustParseAddr("10.0.0.33")); !reflect.DeepEqual(got, []string{"was2", "WAS2.Example.COM"}) {
		t.Errorf("Names(10.0.0.33) = %v", got)
	}
}

// TestRoundTrip: Write gives back the input byte for byte (newline-terminated).
func TestRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.hosts")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, name := range files {
		in, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("Parse(%s): %v", name, err)
		}
		var out bytes.Buffer
		if err := f.Write(&out); err != nil {
			t.Fatal(err)
		}
		if out.String() != string(in) {
			t.Errorf("%s: round trip changed the file:\n%s\nwant:\n%s", name, out.String(), in)
		}
	}
}

func TestRoundTripEdges(t *testing.T) {
	for _, in := range []string{"", "10.0.0.1 a", "10.0.0.1 a\r\n# x\r\n", "\n\n", "a\x00b\n"} {
		f, err := Parse(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		f.Write(&out)
		if out.String() != in {
			t.Errorf("round trip %q -> %q", in, out.String())
		}
	}
}

func TestParseRejectsHugeInput(t *testing.T) {
	big := strings.Repeat("10.0.0.1 x\n", MaxSize/11+10)
	if _, err := Parse(strings.NewReader(big)); err == nil {
		t.Fatal("Parse of an oversized file succeeded; want an error")
	}
}

func mustParseFile(t *testing.T, name string) *File {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// FuzzParse: never panics, entries are consistent, and Write round-trips every input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"127.0.0.1 localhost\n", "# c\n\n10.0.0.1 a b # c\n", "::1 x\nfe80::1%e y\n", "bad\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Parse(bytes.NewReader(in))
		if err != nil {
			return
		}
		for _, l := range file.Lines {
			if l.IsEntry() && (len(l.Names) == 0 || strings.Contains(l.Raw, "\n")) {
				t.Fatalf("inconsistent entry %+v", l)
			}
			for _, n := range l.Names {
				_ = file.Lookup(n)
			}
		}
		var out bytes.Buffer
		if err := file.Write(&out); err != nil {
			t.Fatal(err)
		}
		if out.String() != string(in) {
			t.Fatalf("round trip: %q -> %q", in, out.String())
		}
	})
}
