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

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// unicastTTL is the TTL of unicast requests, so the receiver can tell the hop distance.
const unicastTTL = 64

// recvBuffer is the socket receive buffer asked for (the kernel doubles it for overhead).
const recvBuffer = 8 << 20

// Config is one mcast-test run.
type Config struct {
	Group netip.Addr
	Port  int
	// TTL of multicast requests (Java's default is 1).
	TTL int
	// Iface is the cluster interface, used only by the diagnosis pass that sets it
	// explicitly after the Tomcat-like pass failed.
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

// Node is one host's side of the test: a socket bound to the group's port the way Tomcat's
// McastService binds it (no interface: the kernel's route decides where the membership and
// the packets go), answering every peer and measuring its own requests.
type Node struct {
	cfg   Config
	id    uint64
	conn  *ipv4.PacketConn
	raw   net.PacketConn
	route RouteState
	// joinErr is the error of joining the group without an interface, if any.
	joinErr error

	mu      sync.Mutex
	senders map[uint64]*[numPaths]tracker // what each sender's requests did here
	peers   map[netip.Addr]*peerState
	sentMc  [numPaths]uint32 // multicast and explicit requests sent (to every peer)
	foreign uint64           // datagrams on the port that are not ours (Tomcat, junk, forged)
	limiter map[netip.Addr]*bucket
}

type peerState struct {
	Peer
	id        uint64
	acked     bool
	hsErr     error // last handshake error (refused, unreachable)
	sentUni   uint32
	replies   [numPaths]replyLog
	stats     *Stats
	lastStats time.Time
}

// replyLog is the replies to one path's requests: RTTs and which seqs answered.
type replyLog struct {
	rtt  []time.Duration
	seen tracker
}

// Listen opens the node's socket: bound to 0.0.0.0:port with SO_REUSEADDR (as Java's
// MulticastSocket, so a running Tomcat keeps its port), joined to the group without an
// interface. A failed join is kept, not returned: it is the finding ("No such device").
func Listen(cfg Config) (*Node, error) {
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
		return errors.Join(err, serr)
	}}
	raw, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", cfg.Port))
	if err != nil {
		return nil, fmt.Errorf("bind udp/%d: %w", cfg.Port, err)
	}
	n := &Node{cfg: cfg, id: rand.Uint64() | 1, raw: raw, conn: ipv4.NewPacketConn(raw),
		senders: map[uint64]*[numPaths]tracker{}, peers: map[netip.Addr]*peerState{}, limiter: map[netip.Addr]*bucket{}}
	for _, p := range cfg.Peers {
		n.peers[p.Addr] = &peerState{Peer: p}
	}
	if err := n.conn.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
		raw.Close()
		return nil, fmt.Errorf("enable control messages: %w", err)
	}
	n.conn.SetMulticastTTL(cfg.TTL)
	n.conn.SetTTL(unicastTTL)
	n.conn.SetMulticastLoopback(false)
	n.joinErr = n.conn.JoinGroup(nil, &net.UDPAddr{IP: net.IP(cfg.Group.AsSlice())})
	n.route = localRoute(cfg.Group, cfg.Iface, n.joinErr)
	return n, nil
}

// Close releases the socket.
func (n *Node) Close() error { return n.raw.Close() }

// Serve answers peers until ctx ends: handshakes, echo requests, stats requests. (Our own
// Hellos go out from per-peer connected sockets, which read their acknowledgements.)
func (n *Node) Serve(ctx context.Context) {
	go func() { <-ctx.Done(); n.raw.SetReadDeadline(time.Now()) }()
	buf := make([]byte, MaxPacket)
	for {
		size, cm, src, err := n.conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			continue
		}
		from, ok := src.(*net.UDPAddr)
		if !ok {
			continue
		}
		n.handle(buf[:size], cm, from.AddrPort(), n.conn)
	}
}

// handle processes one datagram; reply goes back through out (the socket it came in on).
func (n *Node) handle(b []byte, cm *ipv4.ControlMessage, from netip.AddrPort, out *ipv4.PacketConn) {
	p, err := Decode(b, n.cfg.Key)
	if err != nil || p.Sender == n.id {
		if err != nil {
			n.mu.Lock()
			n.foreign++
			n.mu.Unlock()
		}
		return
	}
	addr := from.Addr().Unmap()
	now := time.Now()
	switch p.Kind {
	case KindHello:
		n.reply(out, from, &Packet{Kind: KindHelloAck, EchoSeq: p.Seq})
	case KindEcho:
		path := pathOf(p.Flags)
		if cm != nil && !cm.Dst.Equal(net.IP(n.cfg.Group.AsSlice())) {
			path = Unicast // judged by where it really went, not what it claims
		}
		ttl := 0
		if cm != nil {
			ttl = cm.TTL
		}
		n.mu.Lock()
		t := n.senders[p.Sender]
		if t == nil {
			t = new([numPaths]tracker)
			n.senders[p.Sender] = t
		}
		t[path].add(p.Seq, ttl)
		allowed := n.allow(addr, now)
		n.mu.Unlock()
		if allowed {
			n.reply(out, from, &Packet{Kind: KindReply, EchoSeq: p.Seq, EchoSent: p.Sent, EchoFlags: p.Flags})
		}
	case KindReply:
		n.mu.Lock()
		if ps := n.peers[addr]; ps != nil && p.Sender == ps.id {
			log := &ps.replies[pathOf(p.EchoFlags)]
			before := log.seen.in.Received
			log.seen.add(p.EchoSeq, 0)
			if log.seen.in.Received > before && p.EchoSent > 0 {
				log.rtt = append(log.rtt, now.Sub(time.Unix(0, p.EchoSent)))
			}
		}
		n.mu.Unlock()
	case KindStatsReq:
		n.mu.Lock()
		s := n.statsFor(p.Sender, addr)
		n.mu.Unlock()
		n.reply(out, from, &Packet{Kind: KindStats, Body: appendStats(nil, &s)})
	case KindStats:
		s, err := decodeStats(p.Body)
		n.mu.Lock()
		if ps := n.peers[addr]; ps != nil && err == nil && p.Sender == ps.id {
			ps.stats, ps.lastStats = &s, now
		}
		n.mu.Unlock()
	}
}

// statsFor answers a peer's StatsReq: what its requests did here, what we sent it.
// Called with n.mu held.
func (n *Node) statsFor(sender uint64, addr netip.Addr) Stats {
	s := Stats{Route: n.route, Done: true}
	if t := n.senders[sender]; t != nil {
		for i := range t {
			s.In[i] = t[i].in
		}
	}
	s.Sent[Multicast], s.Sent[Explicit] = n.sentMc[Multicast], n.sentMc[Explicit]
	if ps := n.peers[addr]; ps != nil {
		s.Sent[Unicast] = ps.sentUni
		s.Done = ps.stats != nil || !ps.acked // a peer we still test is not done with
	}
	return s
}

func (n *Node) reply(out *ipv4.PacketConn, to netip.AddrPort, p *Packet) {
	p.Sender, p.Sent = n.id, time.Now().UnixNano()
	out.WriteTo(Encode(nil, p, n.cfg.Key), nil, net.UDPAddrFromAddrPort(to))
}

// bucket rate-limits replies per source: a forged flood cannot make us a reflector.
type bucket struct {
	tokens float64
	last   time.Time
}

// replyRate and replyBurst bound replies per source address; far above any test rate.
const (
	replyRate  = 20000.0
	replyBurst = 2000.0
)

// allow takes a token for addr. Called with n.mu held.
func (n *Node) allow(addr netip.Addr, now time.Time) bool {
	b := n.limiter[addr]
	if b == nil {
		if len(n.limiter) > 4096 {
			clear(n.limiter)
		}
		b = &bucket{tokens: replyBurst, last: now}
		n.limiter[addr] = b
	}
	b.tokens = min(replyBurst, b.tokens+now.Sub(b.last).Seconds()*replyRate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Foreign is how many datagrams on the port were not from a clusterdoctor of this run.
func (n *Node) Foreign() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.foreign
}
