package mcast

import (
	"encoding/binary"
	"errors"
)

// statsMax is the largest Stats body: a StatsReq carries this much padding, so the
// answer is never larger than the question.
const statsMax = int(numPaths)*inboundLen + int(numPaths)*4 + 4 + 15

// Path is one way a request travels.
type Path uint8

// Paths, in the order they are counted.
const (
	Unicast   Path = iota // to the peer's address
	Multicast             // to the group, the way Tomcat sends (no interface set)
	Explicit              // to the group with the interface set (the diagnosis pass)
	numPaths
)

func pathOf(flags uint8) Path {
	switch {
	case flags&FlagExplicit != 0:
		return Explicit
	case flags&FlagMulticast != 0:
		return Multicast
	}
	return Unicast
}

// Inbound is what one host received of another's requests on one path.
type Inbound struct {
	Received   uint32
	Duplicates uint32
	Reordered  uint32
	// FirstSeq is the first seq received (0: none), for loss after the first packet.
	FirstSeq uint32
	// MaxSeq is the highest seq received.
	MaxSeq uint32
	// TTL is the TTL seen on the last packet.
	TTL uint8
}

// RouteState is what a host knows of its own multicast route, sent to its peers so each
// side can name the host at fault.
type RouteState struct {
	// Code: 0 fine, 1 the group leaves by another interface, 2 no route, 3 join failed.
	Code   uint8
	Egress string
}

// Route state codes.
const (
	RouteOK    uint8 = 0
	RouteWrong uint8 = 1
	RouteNone  uint8 = 2
	RouteJoin  uint8 = 3
)

// Stats is a Stats message: what the sender received of the asker's requests, how many it
// sent the asker, and its route state.
type Stats struct {
	In    [numPaths]Inbound
	Sent  [numPaths]uint32
	Done  bool
	Route RouteState
	// TCP is how the sender's connection to the asker's receiver ended (tcpNotTried
	// when it did not try: no port was announced, or it is an agent).
	TCP uint8
}

const inboundLen = 4*5 + 1

func appendStats(dst []byte, s *Stats) []byte {
	for _, in := range s.In {
		for _, v := range []uint32{in.Received, in.Duplicates, in.Reordered, in.FirstSeq, in.MaxSeq} {
			dst = binary.BigEndian.AppendUint32(dst, v)
		}
		dst = append(dst, in.TTL)
	}
	for _, v := range s.Sent {
		dst = binary.BigEndian.AppendUint32(dst, v)
	}
	done := byte(0)
	if s.Done {
		done = 1
	}
	egress := s.Route.Egress
	if len(egress) > 15 {
		egress = egress[:15]
	}
	dst = append(dst, done, s.Route.Code, s.TCP, byte(len(egress)))
	return append(dst, egress...)
}

var errStats = errors.New("malformed stats")

// DecodeStats reads the body of a Stats message: what a node received of the asker's
// requests. Exported for clients outside this package (and tests that play one).
func DecodeStats(b []byte) (Stats, error) { return decodeStats(b) }

func decodeStats(b []byte) (Stats, error) {
	var s Stats
	fixed := int(numPaths)*inboundLen + int(numPaths)*4 + 4
	if len(b) < fixed {
		return s, errStats
	}
	for i := range s.In {
		in := &s.In[i]
		for _, v := range []*uint32{&in.Received, &in.Duplicates, &in.Reordered, &in.FirstSeq, &in.MaxSeq} {
			*v = binary.BigEndian.Uint32(b)
			b = b[4:]
		}
		in.TTL, b = b[0], b[1:]
	}
	for i := range s.Sent {
		s.Sent[i], b = binary.BigEndian.Uint32(b), b[4:]
	}
	if b[0] > 1 {
		return s, errStats // done is a flag: anything else is not what a node sends
	}
	s.Done, s.Route.Code, s.TCP = b[0] == 1, b[1], b[2]
	n := int(b[3])
	if b = b[4:]; len(b) != n || n > 15 {
		return s, errStats
	}
	s.Route.Egress = string(b)
	return s, nil
}
