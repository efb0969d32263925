package ajp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// CPing and CPong (the Tomcat Connectors' AJP protocol reference): a packet from the web
// server starts 0x12 0x34, one from the container "AB"; then the length (2 bytes) and the
// type: 10 is CPing, 9 is CPong. This is the probe mod_jk's ping_mode sends.
var (
	cping = []byte{0x12, 0x34, 0x00, 0x01, typeCPing}
	cpong = []byte{'A', 'B', 0x00, 0x01, typeCPong}
)

// CPing connects to an AJP connector, sends a CPing and waits up to timeout for the CPong.
// It returns the time the answer took.
// Equivalent to: printf '\x12\x34\x00\x01\x0a' | nc HOST 8009 | xxd (expect 4142 0001 09).
func CPing(ctx context.Context, to netip.AddrPort, timeout time.Duration) (time.Duration, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", to.String())
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	c.SetDeadline(start.Add(timeout))
	if _, err := c.Write(cping); err != nil {
		return 0, fmt.Errorf("send CPing: %w", err)
	}
	got := make([]byte, len(cpong))
	n, err := readFull(c, got)
	took := time.Since(start)
	switch {
	case err != nil && n == 0:
		return took, fmt.Errorf("no CPong within %s (the connection %s)", timeout, closedHow(err))
	case !bytes.Equal(got[:n], cpong):
		return took, fmt.Errorf("answered % x, not a CPong: this is not an AJP connector (an HTTP port, or another service)", got[:n])
	}
	return took, nil
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func closedHow(err error) string {
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "stayed open without an answer"
	}
	return "was closed: " + err.Error()
}
