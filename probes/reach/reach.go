// Package reach tells how a TCP connection attempt ends, from the kernel's own evidence:
// accepted; refused by the host's TCP (a reset: nothing listens); rejected by a firewall
// (an ICMP error quoting our SYN, with who sent it); unreachable (no route, or no answer
// to ARP); or silently dropped (no answer at all). The ICMP error itself is read from a
// raw socket when the process may open one (root); otherwise only the error number is
// known, and what cannot be told apart is said so.
package reach

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Outcome is how a connection attempt ended.
type Outcome string

// Outcomes, part of the JSON of the checks that report them.
const (
	Open        Outcome = "open"        // the connection was accepted
	Refused     Outcome = "refused"     // a TCP reset: the host is up, nothing listens
	Rejected    Outcome = "rejected"    // an ICMP error from a firewall (admin prohibited, port unreachable)
	Unreachable Outcome = "unreachable" // no route, or the host does not answer ARP
	Dropped     Outcome = "dropped"     // no answer at all until the timeout
	Failed      Outcome = "error"       // anything else (no permission, bad address)
)

// ICMP is the ICMP error that ended an attempt.
type ICMP struct {
	Type, Code int
	// From is the address that sent it: the peer itself, or a router or firewall on the way.
	From netip.Addr
}

// Result is one attempt.
type Result struct {
	To      netip.AddrPort
	Outcome Outcome
	ICMP    *ICMP
	Err     error
	Elapsed time.Duration
}

// Text says what happened in the words of a finding.
func (r Result) Text() string {
	switch r.Outcome {
	case Open:
		return "accepts TCP"
	case Refused:
		return fmt.Sprintf("refused: %s answered with a TCP reset (nothing listens on port %d)", r.To.Addr(), r.To.Port())
	case Rejected:
		return fmt.Sprintf("rejected by a firewall on %s (%s)", r.ICMP.From, icmpText(r.ICMP))
	case Unreachable:
		if r.ICMP != nil {
			return fmt.Sprintf("unreachable: %s reports %s", r.ICMP.From, icmpText(r.ICMP))
		}
		if errors.Is(r.Err, unix.ENETUNREACH) {
			return "unreachable: no route to it from here"
		}
		return "unreachable: no answer to ARP on the local network (the host is down or the address is wrong)"
	case Dropped:
		return fmt.Sprintf("silently dropped: no answer within %s (a firewall drops the SYN, or nothing is at that address)", r.Elapsed.Round(time.Millisecond))
	}
	return fmt.Sprintf("cannot tell: %v", r.Err)
}

// Name is the ICMP error in words: "ICMP communication administratively prohibited".
func (m *ICMP) Name() string { return icmpText(m) }

// Rejection reports whether the error is a firewall's (or a closed port's) refusal
// rather than a routing failure: port unreachable or administratively prohibited.
func (m *ICMP) Rejection() bool {
	return m.Type == 3 && (m.Code == 3 || m.Code == 9 || m.Code == 10 || m.Code == 13)
}

// icmpText names ICMP destination-unreachable codes (RFC 792, RFC 1812).
func icmpText(m *ICMP) string {
	if m.Type == 11 {
		return "ICMP time exceeded"
	}
	names := map[int]string{0: "network unreachable", 1: "host unreachable", 3: "port unreachable",
		9: "network administratively prohibited", 10: "host administratively prohibited",
		13: "communication administratively prohibited"}
	if n, ok := names[m.Code]; ok {
		return "ICMP " + n
	}
	return fmt.Sprintf("ICMP destination unreachable, code %d", m.Code)
}

// TCP attempts one connection to an IPv4 address and closes it at once.
// Equivalent to: nc -vz -w TIMEOUT ADDR PORT, with tcpdump watching for the ICMP answer.
func TCP(ctx context.Context, to netip.AddrPort, timeout time.Duration) Result {
	start := time.Now()
	r := Result{To: to}
	if !to.Addr().Is4() {
		return finishPlain(r, dial(ctx, to, timeout, nil), start)
	}
	icmps, stop, rawErr := watchICMP()
	var local uint16
	err := dial(ctx, to, timeout, &local)
	r.Elapsed = time.Since(start)
	if rawErr != nil {
		return finishPlain(r, err, start)
	}
	// An ICMP error may arrive a moment after the kernel gave up on the connection.
	var m *ICMP
	if err != nil {
		m = icmps.wait(to, local, 50*time.Millisecond)
	}
	stop()
	if err == nil {
		r.Outcome = Open
		return r
	}
	r.Err = err
	if m != nil {
		r.ICMP = m
		if m.Rejection() {
			r.Outcome = Rejected // a closed TCP port answers with a reset, never ICMP
		} else {
			r.Outcome = Unreachable
		}
		return r
	}
	r = classify(r, err)
	if r.Outcome == Dropped && arpFailed(to.Addr()) {
		r.Outcome = Unreachable // no SYN ever left: the next hop never answered ARP
	}
	return r
}

// ARPFailed reports whether the next hop to dst never answered ARP (see arpFailed).
func ARPFailed(dst netip.Addr) bool { return arpFailed(dst) }

// arpFailed reports whether the kernel's neighbour entry for the next hop to dst is
// still unresolved (INCOMPLETE or FAILED). Equivalent to: ip neigh show to NEXTHOP.
func arpFailed(dst netip.Addr) bool {
	rs, err := netlink.RouteGet(net.IP(dst.AsSlice()))
	if err != nil || len(rs) == 0 {
		return false
	}
	hop := dst
	if gw, ok := netip.AddrFromSlice(rs[0].Gw); ok && gw.IsValid() && !gw.IsUnspecified() {
		hop = gw.Unmap()
	}
	ns, err := netlink.NeighList(rs[0].LinkIndex, netlink.FAMILY_V4)
	if err != nil {
		return false
	}
	for _, n := range ns {
		if a, ok := netip.AddrFromSlice(n.IP); ok && a.Unmap() == hop {
			return n.State&(netlink.NUD_INCOMPLETE|netlink.NUD_FAILED) != 0
		}
	}
	return false
}

func finishPlain(r Result, err error, start time.Time) Result {
	r.Elapsed = time.Since(start)
	if err == nil {
		r.Outcome = Open
		return r
	}
	r.Err = err
	r = classify(r, err)
	if r.Outcome == Unreachable && errors.Is(err, unix.EHOSTUNREACH) {
		// without the ICMP itself, a firewall's "admin prohibited" looks the same
		r.Err = fmt.Errorf("%w (run as root to tell a firewall's reject from a missing host)", err)
	}
	return r
}

func classify(r Result, err error) Result {
	switch {
	case errors.Is(err, unix.ECONNREFUSED):
		r.Outcome = Refused
	case errors.Is(err, unix.EHOSTUNREACH), errors.Is(err, unix.ENETUNREACH):
		r.Outcome = Unreachable
	case isTimeout(err):
		r.Outcome = Dropped
	default:
		r.Outcome = Failed
	}
	return r
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

// dial connects with IP_RECVERR set, so the kernel ends the attempt at the first ICMP
// error instead of retrying the SYN until the timeout. local receives the source port.
func dial(ctx context.Context, to netip.AddrPort, timeout time.Duration, local *uint16) error {
	d := net.Dialer{Timeout: timeout, Control: func(network, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if to.Addr().Is4() {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVERR, 1)
				if serr == nil && local != nil {
					// bind now to learn the source port the ICMP error will quote
					if serr = unix.Bind(int(fd), &unix.SockaddrInet4{}); serr == nil {
						if sa, err := unix.Getsockname(int(fd)); err == nil {
							if in4, ok := sa.(*unix.SockaddrInet4); ok {
								*local = uint16(in4.Port)
							}
						}
					}
				}
			} else {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1)
			}
		})
		return errors.Join(err, serr)
	}}
	c, err := d.DialContext(ctx, "tcp", to.String())
	if err != nil {
		return err
	}
	return c.Close()
}

// icmpLog collects the ICMP errors a raw socket sees while an attempt runs.
type icmpLog struct {
	mu   sync.Mutex
	got  []quoted
	cond chan struct{}
}

type quoted struct {
	icmp    ICMP
	dst     netip.Addr
	srcPort uint16
	dstPort uint16
}

// watchICMP opens a raw ICMP socket (CAP_NET_RAW) and records destination-unreachable
// and time-exceeded messages that quote a TCP segment.
func watchICMP() (*icmpLog, func(), error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
	if err != nil {
		return nil, func() {}, err
	}
	// only the ICMP types that end a connection attempt
	filter := ^uint32(1<<3 | 1<<11)
	unix.SetsockoptInt(fd, unix.SOL_RAW, 1 /* ICMP_FILTER */, int(filter))
	log := &icmpLog{cond: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 1500)
		tv := unix.Timeval{Usec: 20000}
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		for {
			select {
			case <-done:
				unix.Close(fd)
				return
			default:
			}
			n, from, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				continue
			}
			if q, ok := parseICMP(buf[:n], from); ok {
				log.mu.Lock()
				log.got = append(log.got, q)
				log.mu.Unlock()
				select {
				case log.cond <- struct{}{}:
				default:
				}
			}
		}
	}()
	var once sync.Once
	return log, func() { once.Do(func() { close(done) }) }, nil
}

// wait returns the ICMP error quoting a segment to "to" from port local, waiting up to
// grace for one to arrive.
func (l *icmpLog) wait(to netip.AddrPort, local uint16, grace time.Duration) *ICMP {
	deadline := time.After(grace)
	for {
		l.mu.Lock()
		for _, q := range l.got {
			if q.dst == to.Addr() && q.dstPort == to.Port() && (local == 0 || q.srcPort == local) {
				l.mu.Unlock()
				m := q.icmp
				return &m
			}
		}
		l.mu.Unlock()
		select {
		case <-l.cond:
		case <-deadline:
			return nil
		}
	}
}

// parseICMP reads an IPv4 packet from a raw ICMP socket: the outer header, the ICMP
// header, and the quoted IP header and first 8 bytes of the TCP segment that caused it.
func parseICMP(b []byte, from unix.Sockaddr) (quoted, bool) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return quoted{}, false
	}
	ihl := int(b[0]&0x0f) * 4
	if len(b) < ihl+8 {
		return quoted{}, false
	}
	icmp := b[ihl:]
	typ, code := int(icmp[0]), int(icmp[1])
	if typ != 3 && typ != 11 {
		return quoted{}, false
	}
	inner := icmp[8:]
	if len(inner) < 20 || inner[0]>>4 != 4 || inner[9] != unix.IPPROTO_TCP {
		return quoted{}, false
	}
	iihl := int(inner[0]&0x0f) * 4
	if len(inner) < iihl+4 {
		return quoted{}, false
	}
	q := quoted{
		icmp:    ICMP{Type: typ, Code: code, From: netip.AddrFrom4([4]byte(b[12:16]))},
		dst:     netip.AddrFrom4([4]byte(inner[16:20])),
		srcPort: uint16(inner[iihl])<<8 | uint16(inner[iihl+1]),
		dstPort: uint16(inner[iihl+2])<<8 | uint16(inner[iihl+3]),
	}
	if sa, ok := from.(*unix.SockaddrInet4); ok {
		q.icmp.From = netip.AddrFrom4(sa.Addr)
	}
	return q, true
}
