package mcast

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes/udpmsg"
)

// datagram is one received packet and what the kernel said about it.
type datagram struct {
	n    int
	from netip.AddrPort
	// dst is the destination address of the IP header (IP_PKTINFO): the group, or ours.
	dst netip.Addr
	ttl int
	// at is when the kernel received it (SO_TIMESTAMPNS), on the real clock.
	at time.Time
}

// oobSize holds a timestamp, a TTL and a pktinfo control message.
const oobSize = udpmsg.OOBSize

// enableRecvInfo asks the kernel for receive timestamps, the destination address, the
// TTL and the ICMP errors of a UDP socket's packets (ip(7), socket(7)).
func enableRecvInfo(rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVERR, 1) })
	return errors.Join(udpmsg.Enable(rc), err, serr)
}

// readDatagram reads one packet with its control messages.
func readDatagram(c *net.UDPConn, buf, oob []byte) (datagram, error) {
	n, from, in, err := udpmsg.Read(c, buf, oob)
	return datagram{n: n, from: from, dst: in.Dst, ttl: in.TTL, at: in.At}, err
}

// parseOOB fills d from control messages read by a batch receive.
func parseOOB(oob []byte, d *datagram) {
	var in udpmsg.Info
	udpmsg.Parse(oob, &in)
	d.dst, d.ttl, d.at = in.Dst, in.TTL, in.At
}

// icmpReport is an error the kernel queued for a socket (IP_RECVERR): an ICMP error a
// host or router sent back about one of our packets, or a local one (no ARP answer).
type icmpReport struct {
	Errno      syscall.Errno
	Origin     uint8 // unix.SO_EE_ORIGIN_ICMP or _LOCAL
	Type, Code uint8
	// From is who reported it (the offender): the peer, a router, a firewall, or us.
	From netip.Addr
	// To is where the packet it is about was going.
	To netip.AddrPort
}

// readErrQueue drains a socket's error queue (recvmsg MSG_ERRQUEUE) without waiting.
func readErrQueue(c *net.UDPConn) []icmpReport {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	var out []icmpReport
	buf, oob := make([]byte, 256), make([]byte, 256)
	for range 64 {
		var (
			oobn int
			from unix.Sockaddr
			rerr error
		)
		rc.Control(func(fd uintptr) {
			_, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
		})
		if rerr != nil {
			return out
		}
		if r, ok := parseErr(oob[:oobn], from); ok {
			out = append(out, r)
		}
	}
	return out
}

func parseErr(oob []byte, from unix.Sockaddr) (icmpReport, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return icmpReport{}, false
	}
	for _, m := range msgs {
		if m.Header.Level != unix.IPPROTO_IP || m.Header.Type != unix.IP_RECVERR {
			continue
		}
		size := int(unsafe.Sizeof(unix.SockExtendedErr{}))
		if len(m.Data) < size {
			continue
		}
		ee := (*unix.SockExtendedErr)(unsafe.Pointer(&m.Data[0]))
		r := icmpReport{Errno: syscall.Errno(ee.Errno), Origin: ee.Origin, Type: ee.Type, Code: ee.Code}
		// SO_EE_OFFENDER: a sockaddr_in right after the extended error.
		if off := m.Data[size:]; len(off) >= 8 && binary.NativeEndian.Uint16(off) == unix.AF_INET {
			r.From = netip.AddrFrom4([4]byte(off[4:8]))
		}
		if sa, ok := from.(*unix.SockaddrInet4); ok {
			r.To = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
		}
		return r, true
	}
	return icmpReport{}, false
}
