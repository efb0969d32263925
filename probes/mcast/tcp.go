package mcast

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/reach"
)

// Who owns the TCP port a node announces for the peers' replication test.
const (
	ownerNone   uint8 = 0
	ownerSelf   uint8 = 1 // clusterdoctor's own listener, on the first free port of the range
	ownerTomcat uint8 = 2 // the running Tomcat's receiver
)

// tcpTimeout bounds one TCP attempt: past the first SYN retransmission (1 s), so a
// silent drop is told from a slow answer.
const tcpTimeout = 1500 * time.Millisecond

// TCP outcome codes on the wire (Stats.TCP).
const tcpNotTried uint8 = 0

var tcpCodes = []reach.Outcome{"", reach.Open, reach.Refused, reach.Rejected, reach.Unreachable, reach.Dropped, reach.Failed}

func tcpCode(o reach.Outcome) uint8 {
	for i, c := range tcpCodes {
		if c == o && i > 0 {
			return uint8(i)
		}
	}
	return tcpNotTried
}

func tcpOutcome(c uint8) reach.Outcome {
	if int(c) < len(tcpCodes) {
		return tcpCodes[c]
	}
	return reach.Failed
}

// listenReceiver listens on the first free port of [from, to], as Tomcat's NioReceiver
// does with autoBind, and accepts and closes every connection: the peers only need to
// know that a SYN gets through.
func listenReceiver(ctx context.Context, from, to int) (net.Listener, int) {
	for port := from; port <= to && port > 0; port++ {
		ln, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", port))
		if err != nil {
			continue
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		go func() { <-ctx.Done(); ln.Close() }()
		return ln, port
	}
	return nil, 0
}

// ackBody is a HelloAck's body: the announced TCP port and who owns it.
func ackBody(port int, owner uint8) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(port)), owner)
}

func parseAck(b []byte) (port int, owner uint8) {
	if len(b) < 3 {
		return 0, ownerNone
	}
	return int(binary.BigEndian.Uint16(b)), b[2]
}

// TCPResult is the TCP path to a peer's replication receiver, both ways.
type TCPResult struct {
	// Port is the port the peer announced; Owner "tomcat" (its running receiver) or
	// "clusterdoctor" (a stand-in on the first free port of the range).
	Port  int    `json:"port"`
	Owner string `json:"owner"`
	// Outcome of connecting from here: open, refused, rejected, unreachable, dropped.
	Outcome reach.Outcome `json:"outcome"`
	Reason  string        `json:"reason"`
	// Inbound is the peer's attempt to this host's announced port, as it reported it
	// (empty when it did not try).
	Inbound reach.Outcome `json:"inbound,omitempty"`
}

func ownerName(o uint8) string {
	switch o {
	case ownerTomcat:
		return "tomcat"
	case ownerSelf:
		return "clusterdoctor"
	}
	return ""
}

// testTCP connects to a peer's announced port once, from the kernel's evidence.
func testTCP(ctx context.Context, addr netip.Addr, port int) reach.Result {
	return reach.TCP(ctx, netip.AddrPortFrom(addr, uint16(port)), tcpTimeout)
}
