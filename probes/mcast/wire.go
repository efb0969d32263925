// Package mcast is clusterdoctor's multicast and unicast test between cluster hosts: a
// versioned wire format, a responder that answers peers, and a mesh session that measures
// both directions of both paths and says why a path fails.
package mcast

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Wire format, version 1. Every field is big-endian.
//
//	0  magic "CDMT"          4
//	4  version               1
//	5  kind                  1  Hello, HelloAck, Echo, Reply, StatsReq, Stats
//	6  flags                 1  FlagMulticast, FlagExplicit, FlagAuth
//	7  ttl                   1  the TTL the sender set (hop distance = ttl - TTL seen)
//	8  sender id             8  random per run; tells peers and our own echoes apart
//	16 seq                   4
//	20 sent                  8  sender's clock, ns since the Unix epoch
//	28 echo seq              4  Reply: the seq answered
//	32 echo sent             8  Reply: its sent time, returned verbatim (RTT on one clock)
//	40 echo flags            1  Reply: the answered request's flags
//	41 reserved              1
//	42 body length           2
//	44 body                  n  Stats: see stats.go; Echo: padding up to --size
//	   mac                  16  HMAC-SHA256 of everything before, truncated, if FlagAuth
const (
	headerLen = 44
	macLen    = 16
	// MaxPacket bounds what is read and built; a jumbo frame's payload.
	MaxPacket = 9000
	version   = 1
)

var magic = [4]byte{'C', 'D', 'M', 'T'}

// Kind is the message type.
type Kind uint8

// Message kinds.
const (
	KindHello    Kind = 1 // unicast: is a clusterdoctor there?
	KindHelloAck Kind = 2
	KindEcho     Kind = 3 // unicast or multicast request
	KindReply    Kind = 4 // always unicast, never larger than the request
	KindStatsReq Kind = 5 // unicast: what did you receive from me?
	KindStats    Kind = 6
)

// Flags.
const (
	FlagMulticast uint8 = 1 << 0 // the request was sent to the group
	FlagExplicit  uint8 = 1 << 1 // sent with the interface set explicitly (the diagnosis pass)
	FlagAuth      uint8 = 1 << 7 // a MAC follows the body
)

// Packet is one decoded message.
type Packet struct {
	Kind      Kind
	Flags     uint8
	TTL       uint8
	Sender    uint64
	Seq       uint32
	Sent      int64
	EchoSeq   uint32
	EchoSent  int64
	EchoFlags uint8
	Body      []byte
}

// Decode errors; all of them mean "count it as foreign and ignore it".
var (
	ErrForeign = errors.New("not a clusterdoctor packet")
	ErrVersion = errors.New("unsupported clusterdoctor wire version")
	ErrAuth    = errors.New("authentication failed")
	ErrLength  = errors.New("malformed length")
)

// Encode appends p to dst, with a MAC when key is set.
func Encode(dst []byte, p *Packet, key []byte) []byte {
	flags := p.Flags &^ FlagAuth
	if len(key) > 0 {
		flags |= FlagAuth
	}
	start := len(dst)
	dst = append(dst, magic[:]...)
	dst = append(dst, version, byte(p.Kind), flags, p.TTL)
	dst = binary.BigEndian.AppendUint64(dst, p.Sender)
	dst = binary.BigEndian.AppendUint32(dst, p.Seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.Sent))
	dst = binary.BigEndian.AppendUint32(dst, p.EchoSeq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.EchoSent))
	dst = append(dst, p.EchoFlags, 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(p.Body)))
	dst = append(dst, p.Body...)
	if len(key) > 0 {
		dst = append(dst, mac(key, dst[start:])...)
	}
	return dst
}

// Decode parses b. With a key, only packets carrying a valid MAC are accepted; without
// one, packets that carry a MAC are refused too (they come from a keyed run and cannot
// be checked). The body aliases b.
func Decode(b []byte, key []byte) (Packet, error) {
	if len(b) < headerLen || [4]byte(b[0:4]) != magic {
		return Packet{}, ErrForeign
	}
	if b[4] != version {
		return Packet{}, fmt.Errorf("%w %d", ErrVersion, b[4])
	}
	p := Packet{
		Kind: Kind(b[5]), Flags: b[6], TTL: b[7],
		Sender:    binary.BigEndian.Uint64(b[8:]),
		Seq:       binary.BigEndian.Uint32(b[16:]),
		Sent:      int64(binary.BigEndian.Uint64(b[20:])),
		EchoSeq:   binary.BigEndian.Uint32(b[28:]),
		EchoSent:  int64(binary.BigEndian.Uint64(b[32:])),
		EchoFlags: b[40],
	}
	if p.Kind < KindHello || p.Kind > KindStats || b[41] != 0 {
		return Packet{}, ErrForeign // unknown kind, or a reserved byte version 1 never sets
	}
	n := int(binary.BigEndian.Uint16(b[42:]))
	end := headerLen + n
	authed := p.Flags&FlagAuth != 0
	want := end
	if authed {
		want += macLen
	}
	if len(b) != want {
		return Packet{}, ErrLength
	}
	switch {
	case len(key) > 0 && !authed, len(key) == 0 && authed:
		return Packet{}, ErrAuth
	case authed && !hmac.Equal(b[end:], mac(key, b[:end])):
		return Packet{}, ErrAuth
	}
	p.Body = b[headerLen:end]
	return p, nil
}

func mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)[:macLen]
}
