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

	"github.com/clusterdoctor/clusterdoctor/probes/reach"
)

// handshakeEvery is how often Hello is repeated while a peer is not up yet.
const handshakeEvery = 200 * time.Millisecond

// helloPad is the padding of a Hello: room for the HelloAck's body, so the answer is
// never larger than the question.
const helloPad = 16

// Mesh runs the symmetric test against every peer, as omping does, and returns one
// result per peer. The node keeps answering peers throughout.
func (n *Node) Mesh(ctx context.Context) []PeerResult {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go n.Serve(ctx)

	var tcp sync.WaitGroup
	n.handshake(ctx, &tcp)
	n.echoRounds(ctx)
	tcp.Wait()
	n.collectStats(ctx)
	diagnose := n.needsDiagnosis()
	if diagnose {
		n.explicitPass(ctx)
		n.collectStats(ctx)
	}
	extra := n.whySilent(ctx)
	n.mu.Lock()
	out := make([]PeerResult, 0, len(n.cfg.Peers))
	for _, p := range n.cfg.Peers {
		out = append(out, n.result(n.peers[p.Addr], extra[p.Addr]))
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

// handshake proves this node to every peer from a connected socket, so the kernel's ICMP
// errors about it surface (IP_RECVERR): Hello, the peer's cookie in a HelloVerify, Hello
// with the cookie, the HelloAck; then the peer's settings, and its TCP receiver is tried
// in the background (tcp). It waits up to cfg.Wait for all peers.
func (n *Node) handshake(ctx context.Context, tcp *sync.WaitGroup) {
	var wg sync.WaitGroup
	for _, p := range n.cfg.Peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n.handshakeOne(ctx, p) {
				n.startTCP(ctx, p.Addr, tcp)
			}
		}()
	}
	wg.Wait()
}

func (n *Node) handshakeOne(ctx context.Context, p Peer) bool {
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.Addr, uint16(n.cfg.Port))))
	if err != nil {
		n.setHandshakeErr(p.Addr, err)
		return false
	}
	defer c.Close()
	if rc, err := c.SyscallConn(); err == nil {
		enableRecvInfo(rc)
	}
	deadline := time.Now().Add(n.cfg.Wait)
	buf := make([]byte, MaxPacket)
	var cookie uint64
	pad := make([]byte, helloPad)
	auth := 0
	for seq := uint32(1); time.Now().Before(deadline) && ctx.Err() == nil; seq++ {
		pkt := Encode(nil, &Packet{Kind: KindHello, Sender: n.id, Seq: seq, Cookie: cookie, Sent: n.now().UnixNano(), Body: pad}, n.cfg.Key)
		if _, err := c.Write(pkt); err != nil {
			n.setHandshakeErr(p.Addr, err)
			n.noteErrors(readErrQueue(c))
		}
		c.SetReadDeadline(time.Now().Add(handshakeEvery))
	read:
		for {
			size, err := c.Read(buf)
			if err != nil {
				if !isTimeout(err) {
					n.noteErrors(readErrQueue(c))
					n.setHandshakeErr(p.Addr, err)
					time.Sleep(handshakeEvery) // refused comes back at once: do not spin
				}
				break
			}
			ans, err := Decode(buf[:size], n.cfg.Key)
			switch {
			case ans.Kind == KindAuthRequired && (err == nil || errors.Is(err, ErrAuth)):
				// Unauthenticated by design: the peer cannot sign with a key it does not share.
				n.mu.Lock()
				n.peers[p.Addr].auth = ans.Code
				n.mu.Unlock()
				if auth++; auth >= 2 {
					return false
				}
			case err != nil || ans.EchoSeq != seq:
			case ans.Kind == KindHelloVerify:
				cookie = ans.Cookie
				break read // ask again at once, with the cookie
			case ans.Kind == KindHelloAck:
				port, owner := parseAck(ans.Body)
				n.mu.Lock()
				ps := n.peers[p.Addr]
				ps.id, ps.acked, ps.hsErr, ps.icmp, ps.auth = ans.Sender, true, nil, nil, 0
				ps.cookie, ps.responder = ans.Cookie, ans.Flags&FlagResponder != 0
				ps.tcpPort, ps.tcpOwner = port, owner
				n.mu.Unlock()
				n.askInfo(c, ps, buf)
				return true
			}
		}
	}
	return false
}

// askInfo asks a peer that answered the handshake for its settings summary, a few times.
func (n *Node) askInfo(c *net.UDPConn, ps *peerState, buf []byte) {
	n.mu.Lock()
	id, cookie := ps.id, ps.cookie
	n.mu.Unlock()
	pad := make([]byte, infoMax)
	for seq := uint32(1); seq <= 3; seq++ {
		c.Write(Encode(nil, &Packet{Kind: KindInfoReq, Sender: n.id, Seq: seq, Cookie: cookie, Sent: n.now().UnixNano(), Body: pad}, n.cfg.Key))
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		for {
			size, err := c.Read(buf)
			if err != nil {
				break
			}
			ans, err := Decode(buf[:size], n.cfg.Key)
			if err != nil || ans.Kind != KindInfo || ans.Sender != id {
				continue
			}
			if in, err := decodeInfo(ans.Body); err == nil {
				n.mu.Lock()
				ps.info = &in
				n.mu.Unlock()
			}
			return
		}
	}
}

// startTCP tries the TCP path to a peer's announced receiver port in the background.
// A responder (the agent) only answers and tries nothing.
func (n *Node) startTCP(ctx context.Context, addr netip.Addr, wg *sync.WaitGroup) {
	n.mu.Lock()
	port := n.peers[addr].tcpPort
	n.mu.Unlock()
	if port == 0 || n.cfg.Responder {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := testTCP(ctx, addr, port)
		n.mu.Lock()
		n.peers[addr].tcp = &r
		n.mu.Unlock()
	}()
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
	group := netip.AddrPortFrom(n.cfg.Group, uint16(n.cfg.Port))
	pad := make([]byte, max(0, n.cfg.Size-headerLen))
	tick := time.NewTicker(n.cfg.Interval)
	defer tick.Stop()
	buf := make([]byte, 0, MaxPacket)
	for round := 1; round <= n.cfg.Count; round++ {
		n.mu.Lock()
		live := n.livePeers()
		n.mu.Unlock()
		for _, ps := range live {
			n.mu.Lock()
			cookie := ps.cookie
			ps.sentUni++
			n.mu.Unlock()
			buf = n.send(n.raw, netip.AddrPortFrom(ps.Addr, uint16(n.cfg.Port)),
				&Packet{Kind: KindEcho, Seq: uint32(round), TTL: unicastTTL, Cookie: cookie, Body: pad}, buf)
		}
		if len(live) > 0 {
			n.mu.Lock()
			n.sentMc[Multicast]++
			n.mu.Unlock()
			// ENETUNREACH without a route: counted as sent, lost
			buf = n.send(n.raw, group, &Packet{Kind: KindEcho, Flags: FlagMulticast, Seq: uint32(round), TTL: uint8(n.cfg.TTL), Body: pad}, buf)
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
	asked := n.onClock(time.Now())
	deadline := time.Now().Add(n.cfg.Wait)
	pad := make([]byte, statsMax)
	for seq := uint32(1); time.Now().Before(deadline) && ctx.Err() == nil; seq++ {
		n.mu.Lock()
		var ask []*peerState
		for _, ps := range n.livePeers() {
			if ps.stats != nil && ps.lastStats.After(asked) && ps.stats.Done {
				continue
			}
			ask = append(ask, ps)
		}
		n.mu.Unlock()
		if len(ask) == 0 {
			return
		}
		for _, ps := range ask {
			n.mu.Lock()
			cookie := ps.cookie
			n.mu.Unlock()
			n.send(n.raw, netip.AddrPortFrom(ps.Addr, uint16(n.cfg.Port)), &Packet{Kind: KindStatsReq, Seq: seq, Cookie: cookie, Body: pad}, nil)
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
		if f.outMc.Received == 0 || (f.inMc.Received == 0 && !ps.responder) {
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
	c, err := listenUDP(netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
	if err != nil {
		return
	}
	defer c.Close()
	pc := ipv4.NewPacketConn(c)
	pc.SetMulticastInterface(ifi)
	pc.SetMulticastTTL(n.cfg.TTL)
	pc.SetMulticastLoopback(false)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go n.serveOn(sctx, c) // replies come back to this socket
	group := netip.AddrPortFrom(n.cfg.Group, uint16(n.cfg.Port))
	for seq := uint32(1); seq <= diagnosisCount && ctx.Err() == nil; seq++ {
		p := &Packet{Kind: KindEcho, Flags: FlagMulticast | FlagExplicit, Seq: seq, TTL: uint8(n.cfg.TTL)}
		p.Sender, p.Sent = n.id, n.now().UnixNano()
		if _, err := c.WriteToUDPAddrPort(Encode(nil, p, n.cfg.Key), group); err == nil || !errors.Is(err, unix.ENETUNREACH) {
			n.mu.Lock()
			n.sentMc[Explicit]++
			n.mu.Unlock()
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(settle(10 * time.Millisecond))
}

// whySilent asks the kernel about each peer whose packets did not all arrive: whether
// its next hop answers ARP, and whether this host's firewall lets udp/port in from it.
// Outside n.mu: it may take D-Bus round trips.
func (n *Node) whySilent(ctx context.Context) map[netip.Addr]extraFacts {
	out := map[netip.Addr]extraFacts{}
	n.mu.Lock()
	var ask []netip.Addr
	for _, p := range n.cfg.Peers {
		ps := n.peers[p.Addr]
		f := n.facts(ps)
		if !ps.acked || (!ps.responder && (f.inMc.Received == 0 || f.inUni.Received == 0)) {
			ask = append(ask, p.Addr)
		}
	}
	n.mu.Unlock()
	for _, a := range ask {
		var e extraFacts
		e.arpFailed = reach.ARPFailed(a)
		if n.cfg.Blocked != nil {
			e.blocked = n.cfg.Blocked(ctx, a)
		}
		out[a] = e
	}
	return out
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
