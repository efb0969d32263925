// Package members sees the cluster as Tomcat sees it: it listens to the membership
// group passively, decodes every Tribes heartbeat (probes/tribes) and says, per member,
// what it advertises and what is wrong with that. It never sends anything to the group.
package members

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/igmp"
	"github.com/clusterdoctor/clusterdoctor/probes/reach"
	"github.com/clusterdoctor/clusterdoctor/probes/udpmsg"
)

// Config is what to listen to and what to expect.
type Config struct {
	Group netip.Addr
	Port  int
	// Iface is the cluster interface: a second socket joins the group on it explicitly.
	Iface    string
	Duration time.Duration
	// Frequency and DropTime are McastService's (500 ms and 3 s by default): the loss is
	// counted against the first, a member silent for the second is gone.
	Frequency, DropTime time.Duration
	// Subnets are the cluster's; an advertised address outside them is a problem.
	Subnets []netip.Prefix
	// Local are this host's addresses: a member advertising one of them is this host's.
	Local []netip.Addr
	// ExpectSelf: a Tomcat with multicast membership runs here, so its own member must be
	// heard on the cluster interface.
	ExpectSelf bool
	// MaxMembers bounds the members tracked, whatever arrives (256 by default).
	MaxMembers int
	// TCPTimeout bounds each connection test to an advertised receiver (2 s by default).
	TCPTimeout time.Duration
	Now        func() time.Time
	// IGMP, when set, is the IGMP this host sent and heard while listening: a member whose
	// heartbeats stopped while its receiver still answers is put against it.
	IGMP *igmp.Recorder
}

// AddLocal takes this host's addresses (which member is its own) and the cluster
// interface's subnets (where members should advertise) from its interface list.
func (c *Config) AddLocal(local []probes.IfaceAddr) {
	for _, a := range local {
		c.Local = append(c.Local, a.Prefix.Addr())
		if a.Iface == c.Iface && a.Prefix.Addr().Is4() {
			c.Subnets = append(c.Subnets, a.Prefix.Masked())
		}
	}
}

func (c *Config) defaults() {
	if c.Frequency <= 0 {
		c.Frequency = 500 * time.Millisecond
	}
	if c.DropTime <= 0 {
		c.DropTime = 3 * time.Second
	}
	if c.MaxMembers <= 0 {
		c.MaxMembers = 256
	}
	if c.TCPTimeout <= 0 {
		c.TCPTimeout = 2 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// listener is one socket joined to the group: as Tomcat joins (no interface, the kernel's
// route decides) or on the cluster interface explicitly.
type listener struct {
	conn     *net.UDPConn
	explicit bool
}

// open binds the group's address and port with SO_REUSEADDR (a running Tomcat keeps its
// socket) and IP_MULTICAST_ALL off, so each socket hears only what its own membership lets
// in: that is what tells "heard only with the interface set" apart. It binds the group
// address itself, not the wildcard Go's net.ListenPacket would turn it into: a wildcard
// socket bound last takes every unicast datagram to the port, the mcast-test responder's
// and the agent's among them, for as long as it listens.
// Equivalent to: socat UDP4-RECVFROM:PORT,bind=GROUP,ip-add-membership=GROUP:IFACE,reuseaddr -
func open(group netip.Addr, port int, ifi *net.Interface) (*listener, error) {
	pc, err := bindGroup(group, port)
	if err != nil {
		return nil, fmt.Errorf("listen on %s:%d: %w", group, port, err)
	}
	conn := pc.(*net.UDPConn)
	if err := ipv4.NewPacketConn(conn).JoinGroup(ifi, &net.UDPAddr{IP: net.IP(group.AsSlice())}); err != nil {
		conn.Close()
		where := "without an interface (as Tomcat joins)"
		if ifi != nil {
			where = "on " + ifi.Name
		}
		return nil, fmt.Errorf("join %s %s: %w", group, where, err)
	}
	rc, err := conn.SyscallConn()
	if err == nil {
		err = udpmsg.Enable(rc)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ask for control messages: %w", err)
	}
	return &listener{conn: conn, explicit: ifi != nil}, nil
}

// bindGroup is a UDP socket bound to group:port.
func bindGroup(group netip.Addr, port int) (net.PacketConn, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), "udp "+group.String())
	defer f.Close()
	if err := errors.Join(unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1),
		unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)); err != nil {
		return nil, fmt.Errorf("setsockopt: %w", err)
	}
	if !group.Is4() {
		return nil, fmt.Errorf("not an IPv4 group")
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: group.As4()}); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	return net.FilePacketConn(f) // a duplicate of fd; f's own is closed on return
}

// Listen hears the group for cfg.Duration and returns what the members advertise, then
// tests TCP to every advertised receiver. An error means it could not listen at all; a
// join that fails on one socket is reported in Report.Problems while the other listens.
func Listen(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	start := cfg.Now()
	col := newCollector(cfg, start)
	var ls []*listener
	route, routeErr := open(cfg.Group, cfg.Port, nil)
	if routeErr == nil {
		ls = append(ls, route)
	}
	var ifi *net.Interface
	if cfg.Iface != "" {
		var err error
		if ifi, err = net.InterfaceByName(cfg.Iface); err != nil {
			return nil, fmt.Errorf("interface %s: %w", cfg.Iface, err)
		}
		if l, err := open(cfg.Group, cfg.Port, ifi); err == nil {
			ls = append(ls, l)
		} else {
			col.hostProblem(err.Error())
		}
	}
	if len(ls) == 0 {
		return nil, routeErr
	}
	if routeErr != nil {
		col.hostProblem(routeErr.Error() + ": Tomcat's own join fails the same way")
	}
	defer func() {
		for _, l := range ls {
			l.conn.Close()
		}
	}()
	deadline := time.Now().Add(cfg.Duration)
	done := make(chan struct{})
	for _, l := range ls {
		go func() {
			defer func() { done <- struct{}{} }()
			col.read(ctx, l, deadline, ifi)
		}()
	}
	for range ls {
		<-done
	}
	rep := col.report(cfg.Now())
	testReceivers(ctx, rep, cfg.TCPTimeout)
	rep.finish(cfg)
	rep.snooped(cfg, start)
	return rep, nil
}

// read takes datagrams off one socket until the deadline.
func (c *collector) read(ctx context.Context, l *listener, deadline time.Time, ifi *net.Interface) {
	buf, oob := make([]byte, 65536), make([]byte, udpmsg.OOBSize)
	l.conn.SetReadDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { l.conn.SetReadDeadline(time.Now()) })
	defer stop()
	for {
		n, from, in, err := udpmsg.Read(l.conn, buf, oob)
		if err != nil {
			return
		}
		onIface := ifi != nil && in.IfIndex == ifi.Index
		c.add(buf[:n], arrival{from: from.Addr(), ttl: in.TTL, explicit: l.explicit, onIface: onIface, at: c.cfg.Now()})
	}
}

// testReceivers connects to every distinct advertised receiver, a few at a time.
func testReceivers(ctx context.Context, rep *Report, timeout time.Duration) {
	sem := make(chan struct{}, 8)
	done := make(chan struct{})
	seen := map[netip.AddrPort]*reach.Result{}
	var targets []netip.AddrPort
	for i := range rep.Members {
		m := &rep.Members[i]
		// A member that went silent is tried too: a receiver that still answers means
		// its Tomcat runs and only the multicast stopped.
		if m.ShutdownAt != "" || !m.receiver.IsValid() || m.receiver.Addr().IsLoopback() || m.Self {
			continue
		}
		if _, ok := seen[m.receiver]; !ok {
			seen[m.receiver] = nil
			targets = append(targets, m.receiver)
		}
	}
	results := make([]reach.Result, len(targets))
	for i, to := range targets {
		go func() {
			sem <- struct{}{}
			results[i] = reach.TCP(ctx, to, timeout)
			<-sem
			done <- struct{}{}
		}()
	}
	for range targets {
		<-done
	}
	for i, to := range targets {
		seen[to] = &results[i]
	}
	for i := range rep.Members {
		m := &rep.Members[i]
		if r := seen[m.receiver]; r != nil {
			m.Receiver = string(r.Outcome)
			if r.Outcome != reach.Open {
				m.Problems = append(m.Problems, fmt.Sprintf("its receiver %s does not accept TCP from here: %s (replication to it fails; open %d/tcp there)",
					m.receiver, r.Text(), m.receiver.Port()))
			}
		}
	}
}
