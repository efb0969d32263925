// Package ports checks that the replication receiver range is free for Tomcat.
package ports

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Socket is one row of /proc/net/tcp or /proc/net/tcp6.
type Socket struct {
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
		_, portHex, ok := strings.Cut(f[1], ":")
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
		out = append(out, Socket{LocalPort: int(port), State: int(st), UID: int(uid), Inode: inode})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read socket table: %w", err)
	}
	return out, nil
}
