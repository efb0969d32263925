package igmp

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

// withSum puts the Internet checksum in bytes 2-3 of an IGMP message.
func withSum(b []byte) []byte {
	b[2], b[3] = 0, 0
	binary.BigEndian.PutUint16(b[2:4], checksum(b))
	return b
}

func TestParseQueries(t *testing.T) {
	cases := []struct {
		name    string
		msg     []byte
		version int
		maxResp time.Duration
		qqi     time.Duration
	}{
		{"v1: 8 bytes, no response time", withSum([]byte{0x11, 0, 0, 0, 0, 0, 0, 0}), 1, 10 * time.Second, 0},
		{"v2: 8 bytes", Query(2, time.Second, 0), 2, time.Second, 0},
		{"v3: 12 bytes with QQIC", Query(3, 10*time.Second, 125*time.Second), 3, 10 * time.Second, 125 * time.Second},
		// RFC 3376 4.1.7: QQIC 0x8f is mant 15, exp 0: (15|16)<<3 = 248 s.
		{"v3: floating-point QQIC", withSum([]byte{0x11, 100, 0, 0, 0, 0, 0, 0, 2, 0x8f, 0, 0}), 3, 10 * time.Second, 248 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse(c.msg)
			if err != nil {
				t.Fatal(err)
			}
			if m.Version != c.version || m.MaxResp != c.maxResp || m.QQI != c.qqi || !m.General() {
				t.Errorf("got v%d maxResp %s qqi %s general %v; want v%d %s %s general", m.Version, m.MaxResp, m.QQI, m.General(), c.version, c.maxResp, c.qqi)
			}
		})
	}
}

func TestParseReportsAndErrors(t *testing.T) {
	group := []byte{228, 0, 0, 4}
	v2 := withSum(append([]byte{0x16, 0, 0, 0}, group...))
	if m, err := Parse(v2); err != nil || !m.Report() || m.Group != netip.MustParseAddr("228.0.0.4") {
		t.Errorf("v2 report: %+v %v", m, err)
	}
	// One v3 record: type 2 (MODE_IS_EXCLUDE), no aux data, no sources.
	v3 := withSum(append([]byte{0x22, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0}, group...))
	if m, err := Parse(v3); err != nil || !m.Report() || len(m.Groups) != 1 || m.Groups[0] != netip.MustParseAddr("228.0.0.4") {
		t.Errorf("v3 report: %+v %v", m, err)
	}
	bad := Query(3, time.Second, time.Second)
	bad[9]++
	for name, b := range map[string][]byte{
		"bad checksum":          bad,
		"short":                 {0x11, 0, 0},
		"query of 10 bytes":     withSum(make([]byte, 10)),
		"v3 record cut short":   withSum([]byte{0x22, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 228, 0, 0, 4}),
		"type no host sends":    withSum([]byte{0x30, 0, 0, 0, 0, 0, 0, 0}),
		"query naming too many": withSum([]byte{0x11, 1, 0, 0, 0, 0, 0, 0, 2, 1, 0, 9}),
	} {
		if b[0] == 0 {
			b[0] = 0x11
			withSum(b)
		}
		if m, err := Parse(b); err == nil {
			t.Errorf("%s: parsed as %+v, want an error", name, m)
		}
	}
}

func TestParsePacket(t *testing.T) {
	q := Query(3, time.Second, 2*time.Second)
	// IPv4 header with the router alert option (24 bytes), as queriers send it.
	ip := []byte{0x46, 0xc0, 0, byte(24 + len(q)), 0, 0, 0, 0, 1, 2, 0, 0, 10, 99, 0, 254, 224, 0, 0, 1, 0x94, 4, 0, 0}
	p, err := ParsePacket(append(ip, q...))
	if err != nil {
		t.Fatal(err)
	}
	if p.Src != netip.MustParseAddr("10.99.0.254") || p.Dst != netip.MustParseAddr("224.0.0.1") || p.Version != 3 || p.QQI != 2*time.Second {
		t.Errorf("got %+v", p)
	}
	udp := append([]byte{}, ip...)
	udp[9] = 17
	if _, err := ParsePacket(append(udp, q...)); err == nil {
		t.Error("a UDP packet parsed as IGMP")
	}
}

func FuzzParsePacket(f *testing.F) {
	q := Query(3, time.Second, 2*time.Second)
	f.Add(append([]byte{0x45, 0, 0, byte(20 + len(q)), 0, 0, 0, 0, 1, 2, 0, 0, 10, 0, 0, 1, 224, 0, 0, 1}, q...))
	f.Add([]byte{0x45})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePacket(b)
		if err == nil && p.Version == 0 {
			t.Errorf("parsed without a version: %+v", p)
		}
	})
}
