package igmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Event is one IGMP packet seen on the interface, in either direction.
type Event struct {
	At time.Time
	// Out: this host sent it (its own reports, or its bridge's queries).
	Out bool
	Packet
}

// Capture sees every IGMP packet on one interface, both ways, through a packet socket
// with a kernel filter that passes IGMP only (`tcpdump -i IFACE igmp` does the same). It
// sees queries the host's firewall then drops, and the host's own reports, which a raw
// IGMP socket does not. It needs CAP_NET_RAW.
type Capture struct {
	Iface string
	f     *os.File
}

// igmpOnly is the filter: an IPv4 packet (the skb's protocol) whose header's protocol
// byte is 2. A SOCK_DGRAM packet socket's filter sees the packet from its network header.
// The socket takes every protocol (ETH_P_ALL) because the kernel hands the packets a host
// sends only to such sockets.
var igmpOnly = mustAssemble([]bpf.Instruction{
	bpf.LoadExtension{Num: bpf.ExtProto},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.ETH_P_IP, SkipFalse: 3},
	bpf.LoadAbsolute{Off: 9, Size: 1},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: 2, SkipFalse: 1},
	bpf.RetConstant{Val: 0xffff},
	bpf.RetConstant{Val: 0},
})

func mustAssemble(prog []bpf.Instruction) []unix.SockFilter {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		panic(err)
	}
	out := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		out[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return out
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Open starts capturing on iface in the calling thread's network namespace.
func Open(iface string) (*Capture, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("igmp: %w", err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("igmp: packet socket (needs CAP_NET_RAW): %w", err)
	}
	prog := unix.SockFprog{Len: uint16(len(igmpOnly)), Filter: &igmpOnly[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("igmp: filter: %w", err)
	}
	// Created with protocol 0 (nothing queued before the filter is on), bound to IFACE
	// with ETH_P_ALL.
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("igmp: bind to %s: %w", iface, err)
	}
	return &Capture{Iface: iface, f: os.NewFile(uintptr(fd), "igmp-"+iface)}, nil
}

// Close stops the capture.
func (c *Capture) Close() error { return c.f.Close() }

// Run hands every IGMP packet to fn until ctx ends or the capture is closed. Packets that
// do not parse (a bad checksum, a type no host sends) are left out, as the kernel drops them.
func (c *Capture) Run(ctx context.Context, fn func(Event)) error {
	stop := context.AfterFunc(ctx, func() { c.f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	rc, err := c.f.SyscallConn()
	if err != nil {
		return err
	}
	buf := make([]byte, 1500)
	for {
		var n int
		var from unix.Sockaddr
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, from, rerr = unix.Recvfrom(int(fd), buf, 0)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		case rerr != nil:
			return rerr
		}
		p, perr := ParsePacket(buf[:n])
		if perr != nil {
			continue
		}
		ll, _ := from.(*unix.SockaddrLinklayer)
		fn(Event{At: time.Now(), Out: ll != nil && ll.Pkttype == unix.PACKET_OUTGOING, Packet: p})
	}
}
