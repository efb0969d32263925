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
const oobSize = 128

// enableRecvInfo asks the kernel for receive timestamps, the destination address, the
// TTL and the ICMP errors of a UDP socket's packets (ip(7), socket(7)).
func enableRecvInfo(rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		for _, o := range [][3]int{
			{unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1},
			{unix.IPPROTO_IP, unix.IP_PKTINFO, 1},
			{unix.IPPROTO_IP, unix.IP_RECVTTL, 1},
			{unix.IPPROTO_IP, unix.IP_RECVERR, 1},
		} {
			if e := unix.SetsockoptInt(int(fd), o[0], o[1], o[2]); e != nil {
				serr = e
			}
		}
	})
	return errors.Join(err, serr)
}

// readDatagram reads one packet with its control messages.
func readDatagram(c *net.UDPConn, buf, oob []byte) (datagram, error) {
	n, oobn, _, from, err := c.ReadMsgUDPAddrPort(buf, oob)
	d := datagram{n: n, from: netip.AddrPortFrom(from.Addr().Unmap(), from.Port())}
	if err != nil {
		return d, err
	}
	parseOOB(oob[:oobn], &d)
	if d.at.IsZero() {
		d.at = time.Now()
	}
	return d, nil
}

// parseOOB reads the control messages without allocating (unix.ParseSocketControlMessage
// makes a slice per datagram, and a responder reads every datagram anyone sends).
func parseOOB(oob []byte, d *datagram) {
	hdr := unix.CmsgLen(0)
	for len(oob) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			return
		}
		data := oob[hdr:l]
		switch {
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && len(data) >= 16:
			sec := int64(binary.NativeEndian.Uint64(data[0:]))
			nsec := int64(binary.NativeEndian.Uint64(data[8:]))
			d.at = time.Unix(sec, nsec)
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_TTL && len(data) >= 4:
			d.ttl = int(int32(binary.NativeEndian.Uint32(data)))
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= 12:
			d.dst = netip.AddrFrom4([4]byte(data[8:12])) // in_pktinfo.ipi_addr: the header's destination
		}
		next := unix.CmsgSpace(l - hdr)
		if next > len(oob) {
			return
		}
		oob = oob[next:]
	}
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
