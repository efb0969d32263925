package nsswitch

import (
	"reflect"
	"strings"
	"testing"
)

func names(ss []Source) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

func TestParseHosts(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"passwd: files\nhosts:          files dns\n", []string{"files", "dns"}, false},
		{"hosts: files myhostname dns # comment\n", []string{"files", "myhostname", "dns"}, false},
		{"hosts: files mdns4_minimal [NOTFOUND=return] dns myhostname\n", []string{"files", "mdns4_minimal", "dns", "myhostname"}, false},
		{"#hosts: dns\nhosts:\tfiles [SUCCESS=return]dns\n", []string{"files", "dns"}, false},
		{"passwd: files\n", []string{"dns", "files"}, false}, // glibc default
		{"hosts: files [NOTFOUND=return\n", nil, true},
		{"hosts: [NOTFOUND=return] files\n", nil, true},
		{"hosts: files [NOTFOUND=maybe]\n", nil, true},
		{"hosts:\n", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseHosts(strings.NewReader(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseHosts(%q) error %v; wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !reflect.DeepEqual(names(got), tt.want) {
			t.Errorf("ParseHosts(%q) = %v; want %v", tt.in, names(got), tt.want)
		}
	}
}

func TestReturnsOn(t *testing.T) {
	ss, err := ParseHosts(strings.NewReader("hosts: files mdns4_minimal [NOTFOUND=return] resolve [!UNAVAIL=return] dns\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		src, status string
		want        bool
	}{
		{"files", "SUCCESS", true},
		{"files", "NOTFOUND", false},
		{"mdns4_minimal", "NOTFOUND", true},
		{"mdns4_minimal", "UNAVAIL", false},
		{"resolve", "NOTFOUND", true}, // !UNAVAIL=return: anything but UNAVAIL returns
		{"resolve", "UNAVAIL", false},
	}
	for _, tt := range tests {
		for _, s := range ss {
			if s.Name == tt.src {
				if got := s.ReturnsOn(tt.status); got != tt.want {
					t.Errorf("%s.ReturnsOn(%s) = %v; want %v", tt.src, tt.status, got, tt.want)
				}
			}
		}
	}
}

func FuzzParseHosts(f *testing.F) {
	f.Add("hosts: files [NOTFOUND=return] dns\n")
	f.Add("hosts: files [!UNAVAIL=return]\n")
	f.Fuzz(func(t *testing.T, in string) {
		ss, err := ParseHosts(strings.NewReader(in))
		if err != nil {
			return
		}
		if len(ss) == 0 {
			t.Fatal("no sources and no error")
		}
		for _, s := range ss {
			if s.Name == "" {
				t.Fatalf("empty source name from %q", in)
			}
			s.ReturnsOn("NOTFOUND")
		}
	})
}
