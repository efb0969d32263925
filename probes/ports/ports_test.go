package ports

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

const procNetTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0FA0 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 31337 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F49 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   2: 0A00000A:0FA1 0A00000B:C350 01 00000000:00000000 00:00000000 00000000   998        0 999 1 0000000000000000 20 4 30 10 -1
`

func TestParseProcNet(t *testing.T) {
	socks, err := ParseProcNet(strings.NewReader(procNetTCP))
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr
	want := []Socket{{a("0.0.0.0"), 4000, tcpListen, 998, 31337}, {a("127.0.0.1"), 8009, tcpListen, 0, 4242}, {a("10.0.0.10"), 4001, 1, 998, 999}}
	if len(socks) != len(want) {
		t.Fatalf("got %d sockets; want %d", len(socks), len(want))
	}
	for i := range want {
		if socks[i] != want[i] {
			t.Errorf("socket %d = %+v; want %+v", i, socks[i], want[i])
		}
	}
	for _, bad := range []string{"h\n0: x\n", "h\n0: 00000000 00000000:0000 0A a b c d 0 0 1\n", "h\n0: 0:ZZZZ 0:0 0A 0 0 0 0 0 0 1\n"} {
		if _, err := ParseProcNet(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseProcNet(%q) succeeded; want an error", bad)
		}
	}
}

func FuzzParseProcNet(f *testing.F) {
	f.Add(procNetTCP)
	f.Fuzz(func(t *testing.T, in string) {
		socks, err := ParseProcNet(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, s := range socks {
			if s.LocalPort < 0 || s.LocalPort > 65535 {
				t.Fatalf("port %d", s.LocalPort)
			}
		}
	})
}

func TestDecideReceiver(t *testing.T) {
	r := probes.PortRange{From: 4000, To: 4100}
	tests := []struct {
		name    string
		holders []Holder
		root    bool
		want    probes.Status
		says    string
	}{
		{"free", nil, true, probes.Pass, "is free"},
		{"tomcat", []Holder{{Port: 4000, PID: 7, Comm: "java", Tomcat: true}}, true, probes.Pass, "only Tomcat"},
		{"squatter", []Holder{{Port: 4000, PID: 7, Comm: "java", Tomcat: true}, {Port: 4001, PID: 9, Comm: "nc"}}, true, probes.Warn, "4001 by nc (pid 9)"},
		{"unseen as user", []Holder{{Port: 4002}}, false, probes.Unknown, "only root can see"},
		{"unseen as root", []Holder{{Port: 4002}}, true, probes.Warn, "no visible process"},
	}
	for _, tt := range tests {
		got := decideReceiver(r, tt.holders, tt.root)
		if got.Status != tt.want || !strings.Contains(got.Summary, tt.says) {
			t.Errorf("%s: = %s %q; want %s saying %q", tt.name, got.Status, got.Summary, tt.want, tt.says)
		}
	}
}
