package chronyconf

import (
	"reflect"
	"strings"
	"testing"
)

func TestCommandChannel(t *testing.T) {
	tests := []struct {
		in      string
		want    Command
		wantErr bool
	}{
		{"pool 2.debian.pool.ntp.org iburst\n", Command{Socket: DefaultSocket, Port: 323}, false},
		{"bindcmdaddress /var/run/chrony/chronyd.sock\ncmdport 0\n", Command{Socket: "/var/run/chrony/chronyd.sock", Port: 0}, false},
		{"bindcmdaddress 127.0.0.1\nbindcmdaddress /a\nbindcmdaddress /b\n", Command{Socket: "/b", Port: 323}, false},
		{"# bindcmdaddress /x\n! cmdport 1\n; cmdport 2\n%cmdport 3\nCMDPORT 4\n", Command{Socket: DefaultSocket, Port: 4}, false},
		{"cmdport x\n", Command{}, true},
		{"cmdport 70000\n", Command{}, true},
		{"cmdport\n", Command{}, true},
	}
	for _, tt := range tests {
		ds, err := Parse(strings.NewReader(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := CommandChannel(ds)
		if (err != nil) != tt.wantErr {
			t.Errorf("CommandChannel(%q) error %v; wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("CommandChannel(%q) = %+v; want %+v", tt.in, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("bindcmdaddress /run/chrony/chronyd.sock\ncmdport 0\n")
	f.Add("server 10.0.0.1 iburst\n#x\n")
	f.Fuzz(func(t *testing.T, in string) {
		ds, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, d := range ds {
			if d.Keyword == "" || d.Line < 1 {
				t.Fatalf("bad directive %+v", d)
			}
		}
		if c, err := CommandChannel(ds); err == nil && (c.Port < 0 || c.Port > 65535 || c.Socket == "") {
			t.Fatalf("bad command channel %+v", c)
		}
	})
}
