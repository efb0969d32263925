// Package udpmsg reads UDP datagrams with what the kernel says of each (IP_PKTINFO,
// IP_RECVTTL, SO_TIMESTAMPNS), without allocating per datagram: the mcast-test responder
// and the members listener read whatever anyone sends to the port.
package udpmsg

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

// Info is what the control messages said of one datagram.
type Info struct {
	// Dst is the IP header's destination (the group, or ours); IfIndex the interface it
	// came in by (IP_PKTINFO).
	Dst     netip.Addr
	IfIndex int
	TTL     int
	// At is when the kernel received it (SO_TIMESTAMPNS).
	At time.Time
}

// OOBSize holds a timestamp, a TTL and a pktinfo control message.
const OOBSize = 128

// Enable asks the kernel for the control messages Parse reads.
// Equivalent to: setsockopt SO_TIMESTAMPNS, IP_PKTINFO, IP_RECVTTL = 1.
func Enable(rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		for _, o := range [][2]int{
			{unix.SOL_SOCKET, unix.SO_TIMESTAMPNS},
			{unix.IPPROTO_IP, unix.IP_PKTINFO},
			{unix.IPPROTO_IP, unix.IP_RECVTTL},
		} {
			if e := unix.SetsockoptInt(int(fd), o[0], o[1], 1); e != nil {
				serr = e
			}
		}
	})
	return errors.Join(err, serr)
}

// Read reads one datagram into buf with its control messages (oob: OOBSize bytes, reused).
func Read(c *net.UDPConn, buf, oob []byte) (n int, from netip.AddrPort, in Info, err error) {
	n, oobn, _, from, err := c.ReadMsgUDPAddrPort(buf, oob)
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if err != nil {
		return n, from, in, err
	}
	Parse(oob[:oobn], &in)
	if in.At.IsZero() {
		in.At = time.Now()
	}
	return n, from, in, nil
}

// Parse reads the control messages into in (unix.ParseSocketControlMessage would make a
// slice per datagram).
func Parse(oob []byte, in *Info) {
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
			in.At = time.Unix(sec, nsec)
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_TTL && len(data) >= 4:
			in.TTL = int(int32(binary.NativeEndian.Uint32(data)))
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= 12:
			in.IfIndex = int(int32(binary.NativeEndian.Uint32(data[0:])))
			in.Dst = netip.AddrFrom4([4]byte(data[8:12])) // in_pktinfo.ipi_addr: the header's destination
		}
		next := unix.CmsgSpace(l - hdr)
		if next > len(oob) {
			return
		}
		oob = oob[next:]
	}
}
