package members

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// heartbeat builds a member record as MemberImpl.getData lays it out.
func heartbeat(host netip.Addr, port int32, alive int64, domain, command string, id byte) []byte {
	var body []byte
	body = binary.BigEndian.AppendUint64(body, uint64(alive))
	body = binary.BigEndian.AppendUint32(body, uint32(port))
	body = binary.BigEndian.AppendUint32(body, 0xffffffff)
	body = binary.BigEndian.AppendUint32(body, 0xffffffff)
	h := host.As4()
	body = append(append(body, 4), h[:]...)
	body = binary.BigEndian.AppendUint32(body, uint32(len(command)))
	body = append(body, command...)
	body = binary.BigEndian.AppendUint32(body, uint32(len(domain)))
	body = append(body, domain...)
	uid := make([]byte, 16)
	uid[0] = id
	body = append(body, uid...)
	body = binary.BigEndian.AppendUint32(body, 0)
	b := append([]byte("TRIBES-B\x01\x00"), binary.BigEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(append(b, body...), "TRIBES-E\x01\x00"...)
}

func TestProblems(t *testing.T) {
	addr := netip.MustParseAddr
	start := time.Unix(1_800_000_000, 0)
	cfg := Config{Group: addr("228.0.0.4"), Port: 45564, Iface: "cl0", Subnets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")},
		Local: []netip.Addr{addr("10.0.0.1")}, ExpectSelf: true, MaxMembers: 5}
	cfg.defaults()
	c := newCollector(cfg, start)
	send := func(b []byte, from string, i int, explicit bool) {
		c.add(b, arrival{from: addr(from), ttl: 1, explicit: explicit, at: start.Add(time.Duration(i) * 500 * time.Millisecond)})
	}
	for i := range 6 {
		alive := int64(1000 + i*500)
		send(heartbeat(addr("10.0.0.1"), 4000, alive, "", "", 1), "10.0.0.1", i, false)     // this host, heard only as Tomcat joins
		send(heartbeat(addr("10.0.0.2"), 4000, alive, "", "", 2), "10.0.0.2", i, false)     // fine
		send(heartbeat(addr("10.0.0.2"), 4000, alive, "", "", 2), "10.0.0.2", i, true)      // the same datagram on the other socket
		send(heartbeat(addr("127.0.1.1"), 4000, alive, "", "", 3), "10.0.0.3", i, false)    // loopback
		send(heartbeat(addr("10.0.0.4"), 4000, alive, "other", "", 4), "10.0.0.9", i, true) // domain, source, only on the interface
		if i%2 == 0 {
			send(heartbeat(addr("10.0.0.2"), 4000, alive, "", "", 5), "10.0.0.5", i, false) // same receiver as .2, half its heartbeats lost
		}
	}
	send(heartbeat(addr("10.0.0.6"), 4000, 1, "", "", 6), "10.0.0.6", 0, false) // a sixth member: beyond MaxMembers
	send([]byte("junk"), "10.0.0.7", 0, false)
	rep := c.report(start.Add(2600 * time.Millisecond))
	rep.finish(cfg)
	if len(rep.Members) != 5 || rep.Overflow != 1 || rep.Foreign != 1 {
		t.Fatalf("%d members, overflow %d, foreign %d; want 5, 1, 1", len(rep.Members), rep.Overflow, rep.Foreign)
	}
	byID := map[byte]Member{}
	for _, m := range rep.Members {
		byID[m.UniqueID[1]-'0'] = m // the uniqueId's first byte, in hex: "01...", "02..."
	}
	want := map[byte][]string{
		1: nil,
		2: {"2 members advertise the same receiver 10.0.0.2:4000"},
		3: {"advertises loopback 127.0.1.1"},
		4: {"membership domain \"other\"", "come from 10.0.0.9 but advertise 10.0.0.4", "heard only with the interface cl0 set"},
		5: {"2 members advertise the same receiver 10.0.0.2:4000"},
	}
	for id, texts := range want {
		m := byID[id]
		got := strings.Join(m.Problems, "\n")
		for _, w := range texts {
			if !strings.Contains(got, w) {
				t.Errorf("member %d: %q lacks %q", id, got, w)
			}
		}
		if len(texts) == 0 && (m.Status != StatusOK || got != "") {
			t.Errorf("member %d: %s %q; want ok", id, m.Status, got)
		}
	}
	if m := byID[2]; m.Heard != 6 || m.IntervalMs != 500 || m.LossPct != 0 {
		t.Errorf("member 2: heard %d, interval %.1f, loss %.1f; want 6 once each, 500 ms, 0%%", m.Heard, m.IntervalMs, m.LossPct)
	}
	if m := byID[5]; m.LossPct < 40 || m.LossPct > 55 {
		t.Errorf("member 5: loss %.1f%%; want about half", m.LossPct)
	}
	if !strings.Contains(strings.Join(rep.Problems, "\n"), "this host's own Tomcat is not heard on cl0") || rep.OK() {
		t.Errorf("host problems %q; want this host's Tomcat not heard on cl0", rep.Problems)
	}
}
