package lab

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Forged is one datagram of a flood: the source address it claims and its UDP payload.
type Forged struct {
	From    netip.Addr
	Payload []byte
}

// Flood sends count UDP datagrams from h's namespace to dst through a raw socket, as
// FloodFrom does.
func (h *Host) Flood(dst netip.AddrPort, count, rate int, next func(i int) Forged) (sent, failed int, err error) {
	var fd int
	err = h.Do(func() (err error) {
		fd, err = RawSocket()
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("lab: raw socket in %s: %w", h.Name, err)
	}
	defer unix.Close(fd)
	sent, failed = FloodFrom(fd, dst, count, rate, next)
	return sent, failed, nil
}

// RawSocket opens a raw IPv4 socket whose packets carry their own header (IP_HDRINCL), in
// the calling thread's network namespace.
func RawSocket() (int, error) { return unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW) }

// FloodFrom sends count UDP datagrams to dst on raw socket fd, each with the source
// address and payload next returns for it, at most rate per second (0: as fast as the
// socket takes them). The source port is dst's port, as a peer's would be. Send errors
// (a full queue, no route) are counted, not fatal.
// Equivalent to: hping3 --udp --spoof ADDR -p PORT --flood, with a payload per packet.
func FloodFrom(fd int, dst netip.AddrPort, count, rate int, next func(i int) Forged) (sent, failed int) {
	to := &unix.SockaddrInet4{Addr: dst.Addr().As4()}
	buf := make([]byte, 0, 65535)
	start := time.Now()
	for i := range count {
		if rate > 0 && i%100 == 0 {
			if ahead := time.Duration(i)*time.Second/time.Duration(rate) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
		f := next(i)
		buf = appendIPv4UDP(buf[:0], f.From, dst, f.Payload)
		if err := unix.Sendto(fd, buf, 0, to); err != nil {
			failed++
			continue
		}
		sent++
	}
	return sent, failed
}

// SpoofedInSubnet is a random address of the lab's cluster subnet that no host holds
// (.10 to .249).
func SpoofedInSubnet(r *rand.Rand) netip.Addr {
	a := ClusterNet.Addr().As4()
	a[3] = byte(10 + r.IntN(240))
	return netip.AddrFrom4(a)
}

// appendIPv4UDP builds an IPv4 header (the kernel fills in the checksum and the id) and a
// UDP header without checksum (allowed for IPv4), then the payload.
func appendIPv4UDP(b []byte, from netip.Addr, to netip.AddrPort, payload []byte) []byte {
	ttl := byte(64)
	if to.Addr().IsMulticast() {
		ttl = 1
	}
	total := 20 + 8 + len(payload)
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(total))
	b = append(b, 0, 0, 0x40, 0, ttl, unix.IPPROTO_UDP, 0, 0) // id 0, DF, checksum by the kernel
	src, dst := from.As4(), to.Addr().As4()
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	b = binary.BigEndian.AppendUint16(b, to.Port())
	b = binary.BigEndian.AppendUint16(b, to.Port())
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0)
	return append(b, payload...)
}
