// Package ports checks that the replication receiver range is free for Tomcat.
package ports

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Socket is one row of /proc/net/tcp or /proc/net/tcp6.
type Socket struct {
	// LocalAddr is the bound address (0.0.0.0 or :: for all); invalid if unreadable.
	LocalAddr netip.Addr
	LocalPort int
	// State is the kernel's TCP state number; 0x0A is LISTEN.
	State int
	UID   int
	Inode uint64
}

// tcpListen is TCP_LISTEN in the kernel's numbering.
const tcpListen = 0x0A

// maxProcNet caps what is read; a busy host has a few hundred thousand sockets.
const maxProcNet = 64 << 20

// ParseProcNet reads /proc/net/tcp or tcp6 (header line, then one socket a line with
// "local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...").
func ParseProcNet(r io.Reader) ([]Socket, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxProcNet))
	var out []Socket
	for n := 1; sc.Scan(); n++ {
		if n == 1 {
			continue // header
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			return nil, fmt.Errorf("line %d: %d fields, want at least 10", n, len(f))
		}
		addrHex, portHex, ok := strings.Cut(f[1], ":")
		if !ok {
			return nil, fmt.Errorf("line %d: local address %q has no port", n, f[1])
		}
		port, err1 := strconv.ParseUint(portHex, 16, 16)
		st, err2 := strconv.ParseUint(f[3], 16, 8)
		uid, err3 := strconv.ParseUint(f[7], 10, 32)
		inode, err4 := strconv.ParseUint(f[9], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return nil, fmt.Errorf("line %d: malformed socket entry", n)
		}
		out = append(out, Socket{LocalAddr: procAddr(addrHex), LocalPort: int(port), State: int(st), UID: int(uid), Inode: inode})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read socket table: %w", err)
	}
	return out, nil
}

// procAddr decodes the kernel's hex address: IPv4 as one 32-bit word, IPv6 as four, each
// in host (little-endian) byte order.
func procAddr(h string) netip.Addr {
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.Addr{}
	}
	out := make([]byte, len(b))
	for i := 0; i < len(b); i += 4 {
		binary.BigEndian.PutUint32(out[i:], binary.LittleEndian.Uint32(b[i:]))
	}
	a, _ := netip.AddrFromSlice(out)
	return a.Unmap()
}
