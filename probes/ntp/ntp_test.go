package ntp

import (
	"context"
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

func TestDecide(t *testing.T) {
	synced := &probes.KernelClock{}
	unsynced := &probes.KernelClock{Unsynchronised: true, MaxError: 16 * time.Second}
	yes, no := true, false
	tests := []struct {
		name string
		f    facts
		want probes.Status
		says string
	}{
		{"chrony fine", facts{chrony: &chronyState{Stratum: 3, Offset: 0.002}, kernel: synced}, probes.Pass, "synchronised by chronyd"},
		{"chrony unsynchronised", facts{chrony: &chronyState{Leap: 3, Sources: 2, Reachable: 0}, kernel: synced}, probes.Fail, "0 of 2 sources reachable"},
		{"chrony 150ms", facts{chrony: &chronyState{Stratum: 3, Offset: -0.15}}, probes.Warn, "off by 150ms"},
		{"chrony 2s", facts{chrony: &chronyState{Stratum: 3, Offset: 2}}, probes.Fail, "off by 2s"},
		{"chrony exactly 100ms", facts{chrony: &chronyState{Stratum: 3, Offset: 0.1}}, probes.Pass, "offset 100ms"},
		{"ntpd fine", facts{ntpd: &ntpdState{Stratum: 2, Offset: 0.0004}}, probes.Pass, "synchronised by ntpd"},
		{"ntpd leap 3", facts{ntpd: &ntpdState{Leap: 3, Stratum: 16}}, probes.Fail, "ntpd is not synchronised"},
		{"timedated yes", facts{timedated: &yes}, probes.Pass, "timedated"},
		{"timedated no", facts{timedated: &no}, probes.Fail, "not NTP-synchronised"},
		{"kernel only, unsynced", facts{kernel: unsynced, asked: []string{"chronyd: not running"}}, probes.Fail, "no NTP daemon answers"},
		{"kernel only, synced", facts{kernel: &probes.KernelClock{Offset: time.Millisecond}}, probes.Pass, "the kernel"},
		{"nothing to ask", facts{asked: []string{"kernel: EPERM"}}, probes.Unknown, "no time source"},
	}
	for _, tt := range tests {
		got := decide(tt.f)
		if got.Status != tt.want || !strings.Contains(got.Summary, tt.says) {
			t.Errorf("%s: decide = %s %q; want %s saying %q", tt.name, got.Status, got.Summary, tt.want, tt.says)
		}
	}
}

func TestParseSysVars(t *testing.T) {
	tests := []struct {
		in      string
		want    ntpdState
		wantErr bool
	}{
		{`version="ntpd 4.2.8p15", processor="x86_64", leap=00, stratum=2, refid=192.0.2.1, offset=-0.512, sys_jitter=0.1`,
			ntpdState{Leap: 0, Stratum: 2, Offset: -0.000512, RefID: "192.0.2.1"}, false},
		{"leap=11, stratum=16, refid=INIT, offset=0.000", ntpdState{Leap: 3, Stratum: 16, RefID: "INIT"}, false},
		{`version="ntpsec, 1.2", leap=3, stratum=16`, ntpdState{Leap: 3, Stratum: 16}, false}, // ntpsec writes decimal
		{"stratum=2", ntpdState{}, true},
		{"leap=xx", ntpdState{}, true},
	}
	for _, tt := range tests {
		got, err := parseSysVars([]byte(tt.in))
		if (err != nil) != tt.wantErr || (!tt.wantErr && *got != tt.want) {
			t.Errorf("parseSysVars(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// TestNtpdReadVarsFragments answers a real UDP request on loopback in two fragments (the
// More bit), out of order, after a stray datagram, as a loaded ntpd may.
func TestNtpdReadVarsFragments(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 512)
		n, from, err := pc.ReadFrom(buf)
		if err != nil || n < ctlHeaderLen || buf[1] != ctlReadVar {
			return
		}
		seq := binary.BigEndian.Uint16(buf[2:])
		data := []byte("leap=00, stratum=3, refid=10.0.0.9, offset=12.5")
		frag := func(off int, part []byte, more bool, s uint16) []byte {
			p := make([]byte, ctlHeaderLen+len(part))
			p[0], p[1] = 2<<3|6, ctlResponse|ctlReadVar
			if more {
				p[1] |= ctlMore
			}
			binary.BigEndian.PutUint16(p[2:], s)
			binary.BigEndian.PutUint16(p[8:], uint16(off))
			binary.BigEndian.PutUint16(p[10:], uint16(len(part)))
			copy(p[ctlHeaderLen:], part)
			return p
		}
		pc.WriteTo([]byte("junk"), from)
		pc.WriteTo(frag(0, data, false, seq+1), from) // someone else's sequence
		pc.WriteTo(frag(20, data[20:], false, seq), from)
		pc.WriteTo(frag(0, data[:20], true, seq), from)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := ntpdReadVars(ctx, pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	if st.Stratum != 3 || st.RefID != "10.0.0.9" || st.Offset != 0.0125 {
		t.Fatalf("ntpdReadVars = %+v", st)
	}
}

func FuzzDecodeFragment(f *testing.F) {
	f.Add([]byte{0x16, 0x82, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 'a', '=', '1'}, uint16(1))
	f.Fuzz(func(t *testing.T, p []byte, seq uint16) {
		data, off, _, err := decodeFragment(p, seq)
		if err == nil && (off < 0 || len(data) > len(p)) {
			t.Fatalf("bad fragment: off %d len %d of %d", off, len(data), len(p))
		}
		if err == nil {
			parseSysVars(data)
		}
	})
}
