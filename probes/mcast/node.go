package mcast

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes/igmp"
	"github.com/clusterdoctor/clusterdoctor/probes/reach"
)

// unicastTTL is the TTL of unicast requests, so the receiver can tell the hop distance.
const unicastTTL = 64

// recvBuffer is the socket receive buffer asked for (the kernel doubles it for overhead).
const recvBuffer = 8 << 20

// Config is one node: an mcast-test run, or the agent's responder.
type Config struct {
	Group netip.Addr
	Port  int
	// TTL of multicast requests (Java's default is 1).
	TTL int
	// Iface is the cluster interface, used by the diagnosis pass that sets it explicitly
	// after the Tomcat-like pass failed, and for the cluster's subnets.
	Iface    string
	Peers    []Peer
	Interval time.Duration
	Count    int
	// Wait bounds how long peers may take to come up, and to finish after us.
	Wait time.Duration
	// Key authenticates every packet (HMAC-SHA256); others are counted and ignored.
	Key []byte
	// MaxLoss in percent; more is "lossy".
	MaxLoss float64
	// Size pads echo requests to this many bytes (0: the header only).
	Size int
	// Progress, if set, is called after every round of requests.
	Progress func(Progress)

	// Responder: the node only answers (the agent); its HelloAck says so.
	Responder bool
	// UnicastAddr, when valid, binds unicast to this address and the group socket to the
	// group itself: the node answers nothing sent to its other addresses.
	UnicastAddr netip.Addr
	// Subnets are the cluster's subnets: a request that arrived by multicast is answered
	// only for a proven source in one of them. Empty: those of Iface, else of every
	// interface.
	Subnets []netip.Prefix
	// ReceiverFrom..ReceiverTo is the replication receiver range: the node listens on its
	// first free port for the peers' TCP test, unless TomcatReceiver names the port of a
	// running Tomcat's receiver, announced instead. Zero: no TCP test.
	ReceiverFrom, ReceiverTo int
	TomcatReceiver           int
	// Info is this host's settings summary, for peers that ask.
	Info Info
	// MaxSkew: a clock offset above it is reported as a problem (0: 1 s).
	MaxSkew time.Duration
	// MaxSenders bounds the proven senders whose requests are counted (0: 256).
	MaxSenders int
	// Now is the node's clock (nil: the system's); tests shift it. Kernel timestamps are
	// moved by the same amount.
	Now func() time.Time
	// Blocked, when set, says whether this host's own firewall keeps udp/Port from peer
	// out, in the words of firewall.ports ("" when it lets it in or cannot tell).
	Blocked func(ctx context.Context, peer netip.Addr) string
	// IGMP, when set, is what this host sent and heard of IGMP during the test: a
	// multicast path that stops is put against it.
	IGMP *igmp.Recorder
}

// Peer is another host of the mesh.
type Peer struct {
	Name string
	Addr netip.Addr
}

// Progress is a snapshot for live output.
type Progress struct {
	Round, Rounds int
	// Replies per peer name: unicast and multicast replies so far.
	Unicast, Multicast map[string]int
}

// Counts are what the node did not answer, by reason: nothing of it holds state.
type Counts struct {
	// Foreign: not clusterdoctor packets of this wire version and key (Tomcat's
	// heartbeats, junk, forged or unauthenticated packets).
	Foreign uint64 `json:"foreign"`
	// Unproven: requests without a valid cookie, or by multicast from a source that is
	// not proven or outside the cluster's subnets.
	Unproven uint64 `json:"unproven"`
	// Replayed: authenticated requests seen before (a replay, or a network duplicate).
	Replayed uint64 `json:"replayed"`
	// Limited: answers held back by the rate limits.
	Limited uint64 `json:"limited"`
	// Unsent: answers dropped because the socket's send buffer was full (replies to
	// addresses nobody answers ARP for wait in the kernel's neighbour queue, and fill it).
	Unsent uint64 `json:"unsent"`
}

// Node is one host's side of the test: a socket bound to the group's port the way Tomcat's
// McastService binds it (no interface: the kernel's route decides where the membership and
// the packets go), answering every peer and measuring its own requests.
type Node struct {
	cfg  Config
	id   uint64
	conn *ipv4.PacketConn // the group socket
	raw  *net.UDPConn
	// strange sends the answers to sources that have not proven themselves (HelloVerify,
	// AuthRequired): replies to forged addresses wait in the neighbour queue, charged to
	// the socket that sent them, and must not fill the send buffer of the socket that
	// answers real peers. Bound like the answering socket, and read like it.
	strange *net.UDPConn
	uni     *net.UDPConn // with UnicastAddr: the unicast socket (answers go out here)
	route   RouteState
	joinErr error
	joined  time.Time // when the group was joined: a stop is timed from it
	cookies *cookies
	subnets []netip.Prefix
	tcpPort int
	tcpOwn  uint8
	cancel  context.CancelFunc

	mu        sync.Mutex
	senders   *simplelru.LRU[uint64, *senderState] // by sender id
	perAddr   map[netip.Addr]int
	peers     map[netip.Addr]*peerState
	sentMc    [numPaths]uint32 // multicast and explicit requests sent (to every peer)
	counts    Counts
	proven    *limiter
	strangers *limiter
}

// senderState is what a proven sender's requests did here; addr is where it received
// its cookie.
type senderState struct {
	addr  netip.Addr
	paths [numPaths]window
}

// maxIDsPerAddr bounds the proven senders of one address: a host that proves many ids
// evicts its own, not its neighbours'.
const maxIDsPerAddr = 4

// Listen opens the node's socket: bound to 0.0.0.0:port with SO_REUSEADDR (as Java's
// MulticastSocket, so a running Tomcat keeps its port), joined to the group without an
// interface. A failed join is kept, not returned: it is the finding ("No such device").
func Listen(cfg Config) (*Node, error) {
	bind := netip.IPv4Unspecified()
	if cfg.UnicastAddr.IsValid() {
		bind = cfg.Group // multicast only; unicast has its own socket
	}
	raw, err := listenUDP(netip.AddrPortFrom(bind, uint16(cfg.Port)))
	if err != nil {
		return nil, err
	}
	if cfg.MaxSenders <= 0 {
		cfg.MaxSenders = 256
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = time.Second
	}
	n := &Node{cfg: cfg, id: rand.Uint64() | 1, raw: raw, conn: ipv4.NewPacketConn(raw), cookies: newCookies(),
		perAddr: map[netip.Addr]int{}, peers: map[netip.Addr]*peerState{}}
	now := n.now()
	n.proven = newLimiter(provenRate, provenBurst, provenBurst, strangerNew, provenGlobal, trackedSources, now)
	n.strangers = newLimiter(strangerRate, strangerBurst, strangerBurst, strangerNew, strangerGlobal, trackedSources, now)
	n.senders, _ = simplelru.NewLRU[uint64, *senderState](cfg.MaxSenders, func(_ uint64, st *senderState) {
		if n.perAddr[st.addr]--; n.perAddr[st.addr] <= 0 {
			delete(n.perAddr, st.addr)
		}
	})
	for _, p := range cfg.Peers {
		n.peers[p.Addr] = &peerState{Peer: p}
	}
	if cfg.UnicastAddr.IsValid() {
		if n.uni, err = listenUDP(netip.AddrPortFrom(cfg.UnicastAddr, uint16(cfg.Port))); err != nil {
			raw.Close()
			return nil, err
		}
	}
	local := netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(cfg.Port))
	if cfg.UnicastAddr.IsValid() {
		local = netip.AddrPortFrom(cfg.UnicastAddr, uint16(cfg.Port))
	}
	if n.strange, err = listenUDP(local); err != nil {
		n.Close()
		return nil, err
	}
	setSendBuffer(n.strange, strangeSendBuffer)
	// It joins no group: with IP_MULTICAST_ALL on (Linux's default) a wildcard-bound socket
	// would also get every datagram of the groups the node's other socket joined, and each
	// multicast request would be handled, and answered, twice.
	if rc, err := n.strange.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0) })
	}
	n.conn.SetMulticastTTL(cfg.TTL)
	n.conn.SetTTL(unicastTTL)
	n.conn.SetMulticastLoopback(false)
	n.joinErr = n.conn.JoinGroup(nil, &net.UDPAddr{IP: net.IP(cfg.Group.AsSlice())})
	n.joined = n.now()
	n.route = localRoute(cfg.Group, cfg.Iface, n.joinErr)
	n.subnets = cfg.Subnets
	if len(n.subnets) == 0 {
		n.subnets = localSubnets(cfg.Iface)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	switch {
	case cfg.TomcatReceiver > 0:
		n.tcpPort, n.tcpOwn = cfg.TomcatReceiver, ownerTomcat
	case cfg.ReceiverFrom > 0 && !cfg.Responder:
		if _, port := listenReceiver(ctx, cfg.ReceiverFrom, cfg.ReceiverTo); port > 0 {
			n.tcpPort, n.tcpOwn = port, ownerSelf
		}
	}
	return n, nil
}

// listenUDP binds a UDP socket with SO_REUSEADDR and a large receive buffer, and asks
// for the control messages readDatagram reads.
func listenUDP(at netip.AddrPort) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			// A receive buffer of a few hundred milliseconds of traffic at high rates, so a
			// scheduling pause does not turn into loss we would blame on the network. As
			// root beyond net.core.rmem_max; otherwise the kernel caps it silently.
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, recvBuffer) != nil {
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, recvBuffer)
			}
		})
		return errors.Join(err, serr, enableRecvInfo(c))
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", at.String())
	if err != nil {
		return nil, fmt.Errorf("bind udp %s: %w", at, err)
	}
	return pc.(*net.UDPConn), nil
}

// setSendBuffer sets SO_SNDBUF, beyond net.core.wmem_max as root.
func setSendBuffer(c *net.UDPConn, size int) {
	if rc, err := c.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, size) != nil {
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, size)
			}
		})
	}
}

// localSubnets are the IPv4 subnets of iface, or of every interface but loopback.
func localSubnets(iface string) []netip.Prefix {
	var ifs []net.Interface
	if iface != "" {
		if ifi, err := net.InterfaceByName(iface); err == nil {
			ifs = []net.Interface{*ifi}
		}
	}
	if len(ifs) == 0 {
		ifs, _ = net.Interfaces()
	}
	var out []netip.Prefix
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if p, err := netip.ParsePrefix(ipn.String()); err == nil && p.Addr().Is4() {
					out = append(out, p.Masked())
				}
			}
		}
	}
	return out
}

// Close releases the sockets.
func (n *Node) Close() error {
	if n.cancel != nil {
		n.cancel()
	}
	for _, c := range []*net.UDPConn{n.uni, n.strange} {
		if c != nil {
			c.Close()
		}
	}
	return n.raw.Close()
}

// TCPPort is the port announced for the peers' TCP test, and whether it is Tomcat's.
func (n *Node) TCPPort() (int, string) { return n.tcpPort, ownerName(n.tcpOwn) }

func (n *Node) now() time.Time {
	if n.cfg.Now != nil {
		return n.cfg.Now()
	}
	return time.Now()
}

// onClock moves a kernel timestamp onto the node's clock.
func (n *Node) onClock(t time.Time) time.Time {
	if n.cfg.Now == nil {
		return t
	}
	return t.Add(time.Until(n.cfg.Now()))
}

// Serve answers peers until ctx ends: handshakes, echo requests, stats and settings
// requests. (Our own Hellos go out from per-peer connected sockets, which read their
// answers.)
func (n *Node) Serve(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range []*net.UDPConn{n.raw, n.uni, n.strange} {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.serveOn(ctx, c)
		}()
	}
	wg.Wait()
}

func (n *Node) serveOn(ctx context.Context, c *net.UDPConn) {
	go func() { <-ctx.Done(); c.SetReadDeadline(time.Now()) }()
	buf, oob := make([]byte, MaxPacket), make([]byte, oobSize)
	for {
		d, err := readDatagram(c, buf, oob)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			n.noteErrors(readErrQueue(c))
			continue
		}
		n.handle(buf[:d.n], d, c)
	}
}

// noteErrors keeps the ICMP errors about packets to our peers.
func (n *Node) noteErrors(rs []icmpReport) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, r := range rs {
		if ps := n.peers[r.To.Addr()]; ps != nil {
			ps.icmp = &r
		}
	}
}

// out is the socket answers leave by: the unicast socket when there is one (a socket
// bound to a group cannot send).
func (n *Node) out(in *net.UDPConn) *net.UDPConn {
	if n.uni != nil {
		return n.uni
	}
	return in
}

// handle processes one datagram that arrived on socket in.
func (n *Node) handle(b []byte, d datagram, in *net.UDPConn) {
	p, err := Decode(b, n.cfg.Key)
	keyed := len(n.cfg.Key) > 0
	addr := d.from.Addr()
	now := n.now()
	if err != nil {
		n.mu.Lock()
		n.counts.Foreign++
		tell := errors.Is(err, ErrAuth) && p.Kind == KindHello && n.strangers.allow(addr, now)
		n.mu.Unlock()
		if tell { // a keyed node tells an unauthenticated Hello why it gets no answer
			code := authKeyed
			if !keyed {
				code = authUnkeyed
			}
			n.answer(n.strange, d.from, &Packet{Kind: KindAuthRequired, EchoSeq: p.Seq, Code: code})
		}
		return
	}
	if p.Sender == n.id {
		return
	}
	at := n.onClock(d.at)
	switch p.Kind {
	case KindHello:
		n.onHello(p, len(b), d, in, now)
	case KindEcho:
		n.onEcho(p, d, in, now, at)
	case KindStatsReq, KindInfoReq:
		n.onQuery(p, len(b), d, in, now)
	case KindReply, KindStats:
		n.onAnswer(p, addr, at)
	}
}

func (n *Node) onHello(p Packet, size int, d datagram, in *net.UDPConn, now time.Time) {
	addr := d.from.Addr()
	fresh := n.cookies.make(addr, p.Sender, now)
	if !n.cookies.valid(p.Cookie, addr, p.Sender, now) {
		n.mu.Lock()
		ok := n.strangers.allow(addr, now)
		if !ok {
			n.counts.Limited++
		}
		n.mu.Unlock()
		if ok { // the same size as the Hello: a HelloVerify never amplifies
			n.answer(n.strange, d.from, &Packet{Kind: KindHelloVerify, EchoSeq: p.Seq, Cookie: fresh})
		}
		return
	}
	n.mu.Lock()
	n.prove(addr, p.Sender)
	ok := n.proven.allow(addr, now)
	n.mu.Unlock()
	if !ok {
		return
	}
	ack := &Packet{Kind: KindHelloAck, EchoSeq: p.Seq, Cookie: fresh}
	if n.cfg.Responder {
		ack.Flags |= FlagResponder
	}
	if body := ackBody(n.tcpPort, n.tcpOwn); sizeOf(len(body), len(n.cfg.Key) > 0) <= size {
		ack.Body = body
	}
	n.answer(n.out(in), d.from, ack)
}

// prove returns the state of a sender that showed it receives at addr, making room for
// it. Called with n.mu held.
func (n *Node) prove(addr netip.Addr, id uint64) *senderState {
	if st, ok := n.senders.Get(id); ok {
		return st
	}
	if n.perAddr[addr] >= maxIDsPerAddr {
		for _, old := range n.senders.Keys() { // oldest first
			if st, _ := n.senders.Peek(old); st.addr == addr {
				n.senders.Remove(old)
				break
			}
		}
	}
	st := &senderState{addr: addr}
	n.senders.Add(id, st)
	n.perAddr[addr]++
	return st
}

// inSubnets reports whether a is on one of the cluster's subnets.
func (n *Node) inSubnets(a netip.Addr) bool {
	for _, p := range n.subnets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (n *Node) onEcho(p Packet, d datagram, in *net.UDPConn, now, at time.Time) {
	addr := d.from.Addr()
	multicast := d.dst.IsMulticast() || (!d.dst.IsValid() && p.Flags&FlagMulticast != 0)
	path := pathOf(p.Flags)
	if !multicast {
		path = Unicast // judged by where it really went, not what it claims
	}
	n.mu.Lock()
	var st *senderState
	answer := true
	switch {
	case multicast:
		// Proven by an earlier unicast exchange (from whichever address the route picks
		// now), and answered only on the cluster's subnets: a multicast request reaches
		// every node, and its source may be forged.
		st, _ = n.senders.Get(p.Sender)
		answer = n.inSubnets(addr)
	case n.cookies.valid(p.Cookie, addr, p.Sender, now):
		st = n.prove(addr, p.Sender)
	}
	if st == nil {
		n.counts.Unproven++
		n.mu.Unlock()
		return
	}
	seen := st.paths[path].add(p.Seq, d.ttl)
	if seen == seenNew {
		st.paths[path].last = at
	}
	if seen == seenInvalid || (seen != seenNew && len(n.cfg.Key) > 0) {
		n.counts.Replayed++ // with a key a repeat changes nothing: it may be a replay
		n.mu.Unlock()
		return
	}
	if !answer {
		n.counts.Unproven++
		n.mu.Unlock()
		return
	}
	ok := n.proven.allow(addr, now)
	if !ok {
		n.counts.Limited++
	}
	n.mu.Unlock()
	if ok {
		n.answer(n.out(in), d.from, &Packet{Kind: KindReply, EchoSeq: p.Seq, EchoSent: p.Sent, Received: at.UnixNano(),
			Code: p.Flags & (FlagMulticast | FlagExplicit), Cookie: n.cookies.make(addr, p.Sender, now)})
	}
}

// onQuery answers a StatsReq or InfoReq from a proven source, when the answer fits in the
// request.
func (n *Node) onQuery(p Packet, size int, d datagram, in *net.UDPConn, now time.Time) {
	addr := d.from.Addr()
	if !n.cookies.valid(p.Cookie, addr, p.Sender, now) {
		n.mu.Lock()
		n.counts.Unproven++
		n.mu.Unlock()
		return
	}
	n.mu.Lock()
	ok := n.proven.allow(addr, now)
	var ans *Packet
	if ok {
		switch p.Kind {
		case KindStatsReq:
			s := n.statsFor(p.Sender, addr)
			ans = &Packet{Kind: KindStats, EchoSeq: p.Seq, Body: appendStats(nil, &s)}
		default:
			ans = &Packet{Kind: KindInfo, EchoSeq: p.Seq, Body: encodeInfo(n.cfg.Info)}
		}
	} else {
		n.counts.Limited++
	}
	n.mu.Unlock()
	if ans == nil || sizeOf(len(ans.Body), len(n.cfg.Key) > 0) > size {
		return
	}
	ans.Cookie = n.cookies.make(addr, p.Sender, now)
	n.answer(n.out(in), d.from, ans)
}

// onAnswer records a Reply or Stats from a peer this node tests.
func (n *Node) onAnswer(p Packet, addr netip.Addr, at time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ps := n.peers[addr]
	if ps == nil || p.Sender != ps.id {
		n.counts.Foreign++
		return
	}
	if p.Cookie != 0 {
		ps.cookie = p.Cookie
	}
	switch p.Kind {
	case KindReply:
		path := pathOf(p.Code)
		log := &ps.replies[path]
		if log.seen.add(p.EchoSeq, 0) == seenNew && p.EchoSent > 0 {
			log.add(sample{t1: p.EchoSent, t2: p.Received, t3: p.Sent, t4: at.UnixNano()})
		}
	case KindStats:
		if s, err := decodeStats(p.Body); err == nil {
			ps.stats, ps.lastStats = &s, at
		}
	}
}

// statsFor answers a peer's StatsReq: what its requests did here, what we sent it.
// Called with n.mu held.
func (n *Node) statsFor(sender uint64, addr netip.Addr) Stats {
	s := Stats{Route: n.route, Done: true}
	if st, ok := n.senders.Peek(sender); ok {
		for i := range st.paths {
			s.In[i] = st.paths[i].in
		}
	}
	s.Sent[Multicast], s.Sent[Explicit] = n.sentMc[Multicast], n.sentMc[Explicit]
	if ps := n.peers[addr]; ps != nil {
		s.Sent[Unicast] = ps.sentUni
		s.Done = (ps.stats != nil || !ps.acked) && (ps.tcp != nil || ps.tcpPort == 0)
		if ps.tcp != nil {
			s.TCP = tcpCode(ps.tcp.Outcome)
		}
	}
	return s
}

// send stamps p with our id and the time just before the system call, and sends it.
func (n *Node) send(c *net.UDPConn, to netip.AddrPort, p *Packet, buf []byte) []byte {
	p.Sender = n.id
	p.Sent = n.now().UnixNano()
	buf = Encode(buf[:0], p, n.cfg.Key)
	c.WriteToUDPAddrPort(buf, to)
	return buf
}

// answer sends a responder's answer without ever blocking the loop that reads requests:
// with the send buffer full the answer is dropped and counted (Unsent).
func (n *Node) answer(c *net.UDPConn, to netip.AddrPort, p *Packet) {
	p.Sender = n.id
	p.Sent = n.now().UnixNano()
	b := Encode(nil, p, n.cfg.Key)
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	var serr error
	rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), b, unix.MSG_DONTWAIT, &unix.SockaddrInet4{Addr: to.Addr().As4(), Port: int(to.Port())})
		return true // done either way: never wait for room
	})
	if errors.Is(serr, unix.EAGAIN) || errors.Is(serr, unix.ENOBUFS) {
		n.mu.Lock()
		n.counts.Unsent++
		n.mu.Unlock()
	}
}

// Counts is what the node did not answer, by reason.
func (n *Node) Counts() Counts {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.counts
}

// Foreign is how many datagrams on the port were not from a clusterdoctor of this run.
func (n *Node) Foreign() uint64 { return n.Counts().Foreign }

// peerState is a peer this node tests.
type peerState struct {
	Peer
	id        uint64
	cookie    uint64
	acked     bool
	responder bool
	hsErr     error       // last error sending the handshake
	icmp      *icmpReport // the last ICMP error the kernel reported about our packets to it
	auth      uint8       // the AuthRequired code it answered, if any
	tcpPort   int
	tcpOwner  uint8
	tcp       *reach.Result
	info      *Info
	sentUni   uint32
	replies   [numPaths]replyLog
	stats     *Stats
	lastStats time.Time
}
