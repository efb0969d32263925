package mcast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// handshakeEvery is how often Hello is repeated while a peer is not up yet.
const handshakeEvery = 200 * time.Millisecond

// Mesh runs the symmetric test against every peer, as omping does, and returns one
// result per peer. The node keeps answering peers throughout.
func (n *Node) Mesh(ctx context.Context) []PeerResult {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go n.Serve(ctx)

	n.handshake(ctx)
	n.echoRounds(ctx)
	n.collectStats(ctx)
	diagnose := n.needsDiagnosis()
	if diagnose {
		n.explicitPass(ctx)
		n.collectStats(ctx)
	}
	n.mu.Lock()
	out := make([]PeerResult, 0, len(n.cfg.Peers))
	for _, p := range n.cfg.Peers {
		out = append(out, n.result(n.peers[p.Addr]))
	}
	n.mu.Unlock()
	if diagnose {
		// The peers saw the same failure and run their own diagnosis pass now: keep
		// answering long enough for them to count it and ask for our stats.
		select {
		case <-time.After(linger):
		case <-ctx.Done():
		}
	}
	return out
}

// linger covers a peer's diagnosis pass (diagnosisCount requests 10 ms apart), its settle
// time and a stats round trip.
const linger = 1500 * time.Millisecond

// handshake sends Hello to every peer from a connected socket, so ICMP errors surface:
// "connection refused" means the host is up and nothing listens (peer-not-running),
// "no route to host" means unicast itself fails. It waits up to cfg.Wait for all peers.
func (n *Node) handshake(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range n.cfg.Peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.handshakeOne(ctx, p)
		}()
	}
	wg.Wait()
}

func (n *Node) handshakeOne(ctx context.Context, p Peer) {
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.Addr, uint16(n.cfg.Port))))
	if err != nil {
		n.setHandshakeErr(p.Addr, err)
		return
	}
	defer c.Close()
	deadline := time.Now().Add(n.cfg.Wait)
	buf := make([]byte, MaxPacket)
	for seq := uint32(1); time.Now().Before(deadline) && ctx.Err() == nil; seq++ {
		pkt := Encode(nil, &Packet{Kind: KindHello, Sender: n.id, Seq: seq, Sent: time.Now().UnixNano()}, n.cfg.Key)
		if _, err := c.Write(pkt); err != nil {
			n.setHandshakeErr(p.Addr, err)
		}
		c.SetReadDeadline(time.Now().Add(handshakeEvery))
		for {
			size, err := c.Read(buf)
			if err != nil {
				if !isTimeout(err) {
					n.setHandshakeErr(p.Addr, err)
					time.Sleep(handshakeEvery) // refused comes back at once: do not spin
				}
				break
			}
			if ack, err := Decode(buf[:size], n.cfg.Key); err == nil && ack.Kind == KindHelloAck {
				n.mu.Lock()
				ps := n.peers[p.Addr]
				ps.id, ps.acked, ps.hsErr = ack.Sender, true, nil
				n.mu.Unlock()
				return
			}
		}
	}
}

func (n *Node) setHandshakeErr(addr netip.Addr, err error) {
	n.mu.Lock()
	n.peers[addr].hsErr = err
	n.mu.Unlock()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// echoRounds sends, every interval, a unicast request to each peer that answered the
// handshake and one multicast request to the group, from the Tomcat-like socket.
func (n *Node) echoRounds(ctx context.Context) {
	group := &net.UDPAddr{IP: net.IP(n.cfg.Group.AsSlice()), Port: n.cfg.Port}
	pad := make([]byte, max(0, n.cfg.Size-headerLen))
	tick := time.NewTicker(n.cfg.Interval)
	defer tick.Stop()
	buf := make([]byte, 0, MaxPacket)
	for round := 1; round <= n.cfg.Count; round++ {
		now := time.Now().UnixNano()
		n.mu.Lock()
		live := n.livePeers()
		n.mu.Unlock()
		for _, ps := range live {
			buf = Encode(buf[:0], &Packet{Kind: KindEcho, Sender: n.id, Seq: uint32(round), Sent: now, TTL: unicastTTL, Body: pad}, n.cfg.Key)
			n.conn.WriteTo(buf, nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ps.Addr, uint16(n.cfg.Port))))
			n.mu.Lock()
			ps.sentUni++
			n.mu.Unlock()
		}
		if len(live) > 0 {
			buf = Encode(buf[:0], &Packet{Kind: KindEcho, Flags: FlagMulticast, Sender: n.id, Seq: uint32(round), Sent: now, TTL: uint8(n.cfg.TTL), Body: pad}, n.cfg.Key)
			n.conn.WriteTo(buf, nil, group) // ENETUNREACH without a route: counted as sent, lost
			n.mu.Lock()
			n.sentMc[Multicast]++
			n.mu.Unlock()
		}
		if n.cfg.Progress != nil {
			n.cfg.Progress(n.progress(round))
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// livePeers are the peers that answered the handshake. Called with n.mu held.
func (n *Node) livePeers() []*peerState {
	var out []*peerState
	for _, p := range n.cfg.Peers {
		if ps := n.peers[p.Addr]; ps.acked {
			out = append(out, ps)
		}
	}
	return out
}

func (n *Node) progress(round int) Progress {
	n.mu.Lock()
	defer n.mu.Unlock()
	pr := Progress{Round: round, Rounds: n.cfg.Count, Unicast: map[string]int{}, Multicast: map[string]int{}}
	for _, ps := range n.peers {
		pr.Unicast[ps.Name] = int(ps.replies[Unicast].seen.in.Received)
		pr.Multicast[ps.Name] = int(ps.replies[Multicast].seen.in.Received)
	}
	return pr
}

// collectStats asks every live peer what it received of our requests, until it says it
// is done with its own test (so both directions are complete) or cfg.Wait passes.
func (n *Node) collectStats(ctx context.Context) {
	time.Sleep(settle(n.cfg.Interval)) // let the last requests and replies land
	asked := time.Now()
	deadline := asked.Add(n.cfg.Wait)
	for seq := uint32(1); time.Now().Before(deadline) && ctx.Err() == nil; seq++ {
		n.mu.Lock()
		pending := 0
		for _, ps := range n.livePeers() {
			if ps.stats != nil && ps.lastStats.After(asked) && ps.stats.Done {
				continue
			}
			pending++
			n.reply(n.conn, netip.AddrPortFrom(ps.Addr, uint16(n.cfg.Port)), &Packet{Kind: KindStatsReq, Seq: seq})
		}
		n.mu.Unlock()
		if pending == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func settle(interval time.Duration) time.Duration { return max(200*time.Millisecond, 2*interval) }

// needsDiagnosis tells whether a peer answered unicast but multicast failed one way.
func (n *Node) needsDiagnosis() bool {
	if n.cfg.Iface == "" {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, ps := range n.livePeers() {
		f := n.facts(ps)
		if f.outMc.Received == 0 || f.inMc.Received == 0 {
			return true
		}
	}
	return false
}

// diagnosisCount is the size of the explicit-interface pass: enough to tell "some" from
// "none" through a lossy link.
const diagnosisCount = 20

// explicitPass sends multicast with the cluster interface set explicitly (what omping and
// iperf -B do), from a second socket, so a route problem can be told from a network one.
func (n *Node) explicitPass(ctx context.Context) {
	ifi, err := net.InterfaceByName(n.cfg.Iface)
	if err != nil {
		return
	}
	raw, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		return
	}
	defer raw.Close()
	pc := ipv4.NewPacketConn(raw)
	pc.SetMulticastInterface(ifi)
	pc.SetMulticastTTL(n.cfg.TTL)
	pc.SetMulticastLoopback(false)
	pc.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst, true)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { // replies come back to this socket
		<-sctx.Done()
		raw.SetReadDeadline(time.Now())
	}()
	go func() {
		buf := make([]byte, MaxPacket)
		for {
			size, cm, src, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if from, ok := src.(*net.UDPAddr); ok {
				n.handle(buf[:size], cm, from.AddrPort(), pc)
			}
		}
	}()
	group := &net.UDPAddr{IP: net.IP(n.cfg.Group.AsSlice()), Port: n.cfg.Port}
	for seq := uint32(1); seq <= diagnosisCount && ctx.Err() == nil; seq++ {
		pkt := Encode(nil, &Packet{Kind: KindEcho, Flags: FlagMulticast | FlagExplicit, Sender: n.id, Seq: seq,
			Sent: time.Now().UnixNano(), TTL: uint8(n.cfg.TTL)}, n.cfg.Key)
		if _, err := pc.WriteTo(pkt, nil, group); err == nil || !errors.Is(err, unix.ENETUNREACH) {
			n.mu.Lock()
			n.sentMc[Explicit]++
			n.mu.Unlock()
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(settle(10 * time.Millisecond))
}

// String renders a route state for reasons.
func (r RouteState) String() string {
	switch r.Code {
	case RouteWrong:
		return fmt.Sprintf("the group leaves via %s", r.Egress)
	case RouteNone:
		return "there is no route for the group (Tomcat's join fails with \"No such device\")"
	case RouteJoin:
		return "joining the group without an interface fails"
	}
	return "the route is fine"
}
