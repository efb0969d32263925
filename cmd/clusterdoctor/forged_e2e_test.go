package main_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
)

// client plays a clusterdoctor by hand from a host's namespace: one UDP socket, packets
// built with the real encoder, answers read with the real decoder.
type client struct {
	t      *testing.T
	conn   *net.UDPConn
	to     *net.UDPAddr
	key    []byte
	sender uint64
	cookie uint64
}

func newClient(t *testing.T, h *lab.Host, to netip.Addr, key []byte, sender uint64) *client {
	t.Helper()
	var conn *net.UDPConn
	if err := h.Do(func() (err error) {
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IP(h.Addr.AsSlice())})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, to: &net.UDPAddr{IP: net.IP(to.AsSlice()), Port: 45564}, key: key, sender: sender}
}

// send encodes p as this client and returns the bytes sent.
func (c *client) send(p mcast.Packet) []byte {
	c.t.Helper()
	p.Sender, p.Cookie, p.Sent = c.sender, c.cookie, time.Now().UnixNano()
	b := mcast.Encode(nil, &p, c.key)
	if _, err := c.conn.WriteToUDP(b, c.to); err != nil {
		c.t.Fatal(err)
	}
	return b
}

// answers reads what arrives within d.
func (c *client) answers(d time.Duration) []mcast.Packet {
	var out []mcast.Packet
	buf := make([]byte, mcast.MaxPacket)
	for deadline := time.Now().Add(d); ; {
		c.conn.SetReadDeadline(deadline)
		n, err := c.conn.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return out
		}
		if err != nil {
			c.t.Fatal(err)
		}
		if p, err := mcast.Decode(buf[:n], c.key); err == nil {
			p.Body = append([]byte(nil), p.Body...)
			out = append(out, p)
		}
	}
}

// prove runs the handshake: a Hello, the HelloVerify's cookie, the Hello with it, the ack.
func (c *client) prove() {
	c.t.Helper()
	c.send(mcast.Packet{Kind: mcast.KindHello, Seq: 1})
	for _, p := range c.answers(500 * time.Millisecond) {
		if p.Kind == mcast.KindHelloVerify {
			c.cookie = p.Cookie
		}
	}
	if c.cookie == 0 {
		c.t.Fatalf("no HelloVerify from %s", c.to)
	}
	c.send(mcast.Packet{Kind: mcast.KindHello, Seq: 2})
	for _, p := range c.answers(500 * time.Millisecond) {
		if p.Kind == mcast.KindHelloAck {
			return
		}
	}
	c.t.Fatalf("no HelloAck from %s for the cookie", c.to)
}

// received asks the node what it received of this client's unicast requests.
func (c *client) received() uint32 {
	c.t.Helper()
	c.send(mcast.Packet{Kind: mcast.KindStatsReq, Seq: 99, Body: make([]byte, 400)})
	for _, p := range c.answers(500 * time.Millisecond) {
		if p.Kind == mcast.KindStats {
			s, err := mcast.DecodeStats(p.Body)
			if err != nil {
				c.t.Fatal(err)
			}
			return s.In[mcast.Unicast].Received
		}
	}
	c.t.Fatal("no Stats answer")
	return 0
}

// TestAgentIgnoresReplays: with a key, an authenticated echo request captured and sent
// again (fifty times) gets no answer and changes no count the agent reports.
func TestAgentIgnoresReplays(t *testing.T) {
	l := lab.New(t)
	b, f := l.AddHost("b", 2), l.AddHost("f", 5)
	b.AddMulticastRoute()
	f.AddMulticastRoute()
	key := l.WriteFile("key", "the-cluster-key\n")
	b.Start(noFirewalld, "agent-b", binary, "agent", "--iface", "cl0", "--interval", "5s", "--key-file", key,
		"--skip", "ntp.sync,hosts.hostname")
	time.Sleep(time.Second)
	c := newClient(t, f, b.Addr, []byte("the-cluster-key"), 0x5eed)
	c.prove()
	echo := c.send(mcast.Packet{Kind: mcast.KindEcho, Seq: 1})
	if got := c.answers(300 * time.Millisecond); len(got) != 1 || got[0].Kind != mcast.KindReply {
		t.Fatalf("the original echo got %d answers; want one Reply", len(got))
	}
	for range 50 {
		if _, err := c.conn.WriteToUDP(echo, c.to); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.answers(300 * time.Millisecond); len(got) != 0 {
		t.Errorf("the replayed echo got %d answers; want none", len(got))
	}
	if n := c.received(); n != 1 {
		t.Errorf("the agent counts %d echo requests received; want 1, the replays counted for nothing", n)
	}
}

// TestAgentsIgnoreSpoofedMulticast: an echo request sent to the group with a source
// outside the cluster subnet gets no answer from any of three agents, even carrying a
// sender id the agents know (one the attacker proved from its own address); the same
// request from a source inside the subnet is answered, so the counters can see answers.
func TestAgentsIgnoreSpoofedMulticast(t *testing.T) {
	lab.RequireCommands(t, "nft")
	l := lab.New(t)
	f := l.AddHost("f", 5)
	f.AddMulticastRoute()
	var agents []*lab.Host
	for i, name := range []string{"b", "c", "d"} {
		h := l.AddHost(name, byte(2+i))
		h.AddMulticastRoute()
		h.AddPublic() // a route back to anywhere, so an answer would leave and be counted
		h.Nft(`table inet cdspoof {
	counter in_outside {}
	counter out_outside {}
	counter out_inside {}
	chain in {
		type filter hook input priority -10
		ip saddr 192.0.2.0/24 udp dport 45564 counter name in_outside
	}
	chain out {
		type filter hook output priority -10
		ip daddr 192.0.2.0/24 udp sport 45564 counter name out_outside
		ip daddr 10.99.0.99 udp sport 45564 counter name out_inside
	}
}
`)
		h.Start(noFirewalld, "agent-"+name, binary, "agent", "--iface", "cl0", "--interval", "5s", "--skip", "ntp.sync,hosts.hostname")
		agents = append(agents, h)
	}
	time.Sleep(time.Second)
	const sender = 0xbad5eed
	for _, h := range agents {
		newClient(t, f, h.Addr, nil, sender).prove()
	}
	group := netip.AddrPortFrom(netip.MustParseAddr("228.0.0.4"), 45564)
	for _, from := range []string{"192.0.2.9", "10.99.0.99"} {
		src := netip.MustParseAddr(from)
		if _, _, err := f.Flood(group, 200, 2000, func(i int) lab.Forged {
			return lab.Forged{From: src, Payload: mcast.Encode(nil, &mcast.Packet{Kind: mcast.KindEcho, Flags: mcast.FlagMulticast,
				Sender: sender, Seq: uint32(i + 1)}, nil)}
		}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	answeredInside := 0
	for _, h := range agents {
		in := spoofCounter(t, h, "in_outside")
		out := spoofCounter(t, h, "out_outside")
		answeredInside += spoofCounter(t, h, "out_inside")
		if in == 0 {
			t.Errorf("%s: no spoofed multicast arrived (in_outside 0): the test proves nothing", h.Name)
		}
		if out != 0 {
			t.Errorf("%s answered %d multicast requests spoofed from outside the cluster subnet", h.Name, out)
		}
	}
	if answeredInside == 0 {
		t.Error("no agent answered the same requests from inside the subnet: the counters see nothing")
	}
}

func spoofCounter(t *testing.T, h *lab.Host, name string) int {
	t.Helper()
	out, err := h.Command(lab.Private{}, "nft", "list", "counter", "inet", "cdspoof", name).CombinedOutput()
	m := counterRE.FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("nft list counter %s: %v\n%s", name, err, out)
	}
	var n int
	fmt.Sscan(string(m[1]), &n)
	return n
}
