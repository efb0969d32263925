// Package igmp watches IGMP on the cluster interface: the queriers that keep a snooping
// switch forwarding the cluster's group, this host's own membership reports, and the
// Linux bridges whose snooping timers decide how long a group outlives a silent querier.
//
// Why it matters: a snooping switch forwards a group only to ports it has heard reports
// from, and hosts report only when they join and when a querier asks. When the querier
// goes quiet (or its queries never reach the host) the membership times out and Tomcat's
// heartbeats stop, minutes after everything worked. `tcpdump -i IFACE igmp` shows the
// same packets; `ip -d link show BRIDGE` the bridge timers.
package igmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// IGMP message types (RFC 1112, 2236, 3376).
const (
	TypeQuery    = 0x11
	TypeReportV1 = 0x12
	TypeReportV2 = 0x16
	TypeLeave    = 0x17
	TypeReportV3 = 0x22
)

// DefaultQueryInterval is the Query Interval of RFC 3376 (125 s), what a querier uses
// unless configured otherwise, and what an IGMPv2 query that says nothing of it implies.
const DefaultQueryInterval = 125 * time.Second

// DefaultRobustness is RFC 3376's Robustness Variable.
const DefaultRobustness = 2

// Message is one IGMP message, reduced to what a watcher needs.
type Message struct {
	Type byte
	// Version of a query: 1, 2 or 3, told apart by length and Max Resp Code as RFC
	// 3376 section 7.1 says; of a report, by its type.
	Version int
	// Group is the group a query asks about (unspecified: a general query) or a v1/v2
	// report or leave names; unset for a v3 report.
	Group netip.Addr
	// MaxResp is the longest a host may wait before it answers a query.
	MaxResp time.Duration
	// QQI is an IGMPv3 querier's announced query interval (0: unknown).
	QQI time.Duration
	// QRV is an IGMPv3 querier's robustness variable (0: unknown).
	QRV int
	// Groups are the group records of a v3 report.
	Groups []netip.Addr
}

// General reports whether m is a general query (one that asks about every group).
func (m Message) General() bool {
	return m.Type == TypeQuery && (!m.Group.IsValid() || m.Group.IsUnspecified())
}

// Report reports whether m is a membership report of any version.
func (m Message) Report() bool {
	return m.Type == TypeReportV1 || m.Type == TypeReportV2 || m.Type == TypeReportV3
}

// Parse decodes one IGMP message (the IP payload). A message whose checksum is wrong or
// that is too short for its type is an error, as the kernel drops it.
func Parse(b []byte) (Message, error) {
	if len(b) < 8 {
		return Message{}, fmt.Errorf("igmp: %d bytes, want at least 8", len(b))
	}
	if checksum(b) != 0 {
		return Message{}, errors.New("igmp: bad checksum")
	}
	m := Message{Type: b[0]}
	switch m.Type {
	case TypeQuery:
		m.Group = netip.AddrFrom4([4]byte(b[4:8]))
		switch {
		case len(b) == 8 && b[1] == 0:
			m.Version = 1
			m.MaxResp = 10 * time.Second // RFC 2236 section 4: a v1 query means 10 s
		case len(b) == 8:
			m.Version = 2
			m.MaxResp = time.Duration(b[1]) * 100 * time.Millisecond
		case len(b) >= 12:
			m.Version = 3
			m.MaxResp = time.Duration(code(b[1])) * 100 * time.Millisecond
			m.QRV = int(b[8] & 0x07)
			m.QQI = time.Duration(code(b[9])) * time.Second
			if n := int(binary.BigEndian.Uint16(b[10:12])); len(b) < 12+4*n {
				return Message{}, fmt.Errorf("igmp: query names %d sources in %d bytes", n, len(b))
			}
		default:
			return Message{}, fmt.Errorf("igmp: query of %d bytes (8 or at least 12)", len(b))
		}
	case TypeReportV1, TypeReportV2, TypeLeave:
		m.Version = map[byte]int{TypeReportV1: 1, TypeReportV2: 2, TypeLeave: 2}[m.Type]
		m.Group = netip.AddrFrom4([4]byte(b[4:8]))
	case TypeReportV3:
		m.Version = 3
		n := int(binary.BigEndian.Uint16(b[6:8]))
		rest := b[8:]
		for i := 0; i < n; i++ {
			if len(rest) < 8 {
				return Message{}, fmt.Errorf("igmp: report's record %d of %d cut short", i+1, n)
			}
			aux, sources := int(rest[1])*4, int(binary.BigEndian.Uint16(rest[2:4]))
			m.Groups = append(m.Groups, netip.AddrFrom4([4]byte(rest[4:8])))
			size := 8 + 4*sources + aux
			if len(rest) < size {
				return Message{}, fmt.Errorf("igmp: report's record %d of %d cut short", i+1, n)
			}
			rest = rest[size:]
		}
	default:
		return Message{}, fmt.Errorf("igmp: type %#x is not one a host or querier sends", m.Type)
	}
	return m, nil
}

// code decodes an IGMPv3 Max Resp Code or QQIC (RFC 3376 sections 4.1.1 and 4.1.7):
// below 128 the value itself, above it a floating-point form.
func code(c byte) int {
	if c < 128 {
		return int(c)
	}
	mant, exp := int(c&0x0f), int(c>>4&0x07)
	return (mant | 0x10) << (exp + 3)
}

// Query builds a general query of version 2 or 3 (as a querier sends it to 224.0.0.1):
// maxResp in tenths of a second, and for version 3 the announced interval qqi.
func Query(version int, maxResp time.Duration, qqi time.Duration) []byte {
	b := make([]byte, 8, 12)
	b[0] = TypeQuery
	b[1] = byte(min(maxResp/(100*time.Millisecond), 127))
	if version == 3 {
		b = append(b, DefaultRobustness, byte(min(qqi/time.Second, 127)), 0, 0)
	}
	binary.BigEndian.PutUint16(b[2:4], checksum(b))
	return b
}

// checksum is the Internet checksum (RFC 1071); over a message with its checksum in
// place it is 0.
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// Packet is an IPv4 packet carrying IGMP, as a packet socket hands it over.
type Packet struct {
	Src, Dst netip.Addr
	Message
}

// ParsePacket decodes an IPv4 packet whose payload is IGMP.
func ParsePacket(b []byte) (Packet, error) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return Packet{}, errors.New("igmp: not an IPv4 packet")
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if ihl < 20 || total < ihl || total > len(b) {
		return Packet{}, fmt.Errorf("igmp: IPv4 header of %d bytes in a packet of %d (of %d)", ihl, total, len(b))
	}
	if b[9] != 2 {
		return Packet{}, fmt.Errorf("igmp: IP protocol %d, not IGMP", b[9])
	}
	m, err := Parse(b[ihl:total])
	if err != nil {
		return Packet{}, err
	}
	return Packet{Src: netip.AddrFrom4([4]byte(b[12:16])), Dst: netip.AddrFrom4([4]byte(b[16:20])), Message: m}, nil
}
