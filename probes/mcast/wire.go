// Package mcast is the protocol between clusterdoctors and the multicast and unicast test
// built on it: a versioned wire format, a responder that answers peers (mcast-test and the
// agent) without becoming a reflector, and a mesh session that measures both directions
// of both paths, the TCP path to the replication receivers and the clocks, and says why a
// path fails.
package mcast

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Wire format, version 2. Every field is big-endian.
//
//	0  magic "CDMT"          4
//	4  version               1
//	5  kind                  1  see Kind
//	6  flags                 1  FlagMulticast, FlagExplicit, FlagResponder, FlagAuth
//	7  ttl                   1  the TTL the sender set (hop distance = ttl - TTL seen)
//	8  sender id             8  random per run; tells peers and our own echoes apart
//	16 seq                   4
//	20 cookie                8  requests: the responder's cookie; replies: a fresh one
//	28 sent                  8  the sender's clock when it sent this, ns since the Unix epoch
//	36 echo sent             8  replies: the request's sent time, returned verbatim
//	44 received              8  replies: when the request arrived (the kernel's timestamp)
//	52 echo seq              4  replies: the seq answered
//	56 code                  1  replies: the answered request's flags; AuthRequired: why
//	57 reserved              1
//	58 body length           2
//	60 body                  n  Stats, Info, HelloAck: see their files; requests: padding
//	   mac                  16  HMAC-SHA256 of everything before, truncated, if FlagAuth
//
// A reply is never larger than its request: requests that ask for a body carry padding
// of that size, and a responder that cannot fit its answer sends none.
const (
	headerLen = 60
	macLen    = 16
	// MaxPacket bounds what is read and built; a jumbo frame's payload.
	MaxPacket = 9000
	version   = 2
)

var magic = [4]byte{'C', 'D', 'M', 'T'}

// Kind is the message type.
type Kind uint8

// Message kinds.
const (
	KindHello        Kind = 1  // unicast: is a clusterdoctor there? (with the cookie: prove it)
	KindHelloAck     Kind = 2  // the responder's role and TCP receiver
	KindEcho         Kind = 3  // unicast or multicast request
	KindReply        Kind = 4  // always unicast, never larger than the request
	KindStatsReq     Kind = 5  // unicast: what did you receive from me?
	KindStats        Kind = 6  //
	KindHelloVerify  Kind = 7  // a Hello without a valid cookie: here is one, ask again
	KindAuthRequired Kind = 8  // the request's authentication does not match ours
	KindInfoReq      Kind = 9  // unicast: your settings summary
	KindInfo         Kind = 10 //
	maxKind               = KindInfo
)

// Flags.
const (
	FlagMulticast uint8 = 1 << 0 // the request was sent to the group
	FlagExplicit  uint8 = 1 << 1 // sent with the interface set explicitly (the diagnosis pass)
	// FlagResponder marks a HelloAck from a node that only answers (the agent): it sends
	// no requests of its own, so the direction towards the asker is not tested.
	FlagResponder uint8 = 1 << 2
	FlagAuth      uint8 = 1 << 7 // a MAC follows the body
)

// AuthRequired codes.
const (
	authKeyed   uint8 = 1 // the responder has a key and the request does not verify with it
	authUnkeyed uint8 = 2 // the responder has no key and the request carries a MAC
)

// Packet is one decoded message.
type Packet struct {
	Kind     Kind
	Flags    uint8
	TTL      uint8
	Sender   uint64
	Seq      uint32
	Cookie   uint64
	Sent     int64
	EchoSent int64
	Received int64
	EchoSeq  uint32
	// Code is the answered request's flags in a Reply, the reason in AuthRequired.
	Code uint8
	Body []byte
}

// Decode errors. ErrForeign, ErrVersion and ErrLength mean "count it and ignore it";
// with ErrAuth the header is returned as read, unverified, so a Hello can be told why.
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
	dst = binary.BigEndian.AppendUint64(dst, p.Cookie)
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.Sent))
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.EchoSent))
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.Received))
	dst = binary.BigEndian.AppendUint32(dst, p.EchoSeq)
	dst = append(dst, p.Code, 0)
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
		Sender:   binary.BigEndian.Uint64(b[8:]),
		Seq:      binary.BigEndian.Uint32(b[16:]),
		Cookie:   binary.BigEndian.Uint64(b[20:]),
		Sent:     int64(binary.BigEndian.Uint64(b[28:])),
		EchoSent: int64(binary.BigEndian.Uint64(b[36:])),
		Received: int64(binary.BigEndian.Uint64(b[44:])),
		EchoSeq:  binary.BigEndian.Uint32(b[52:]),
		Code:     b[56],
	}
	if p.Kind < KindHello || p.Kind > maxKind || b[57] != 0 {
		return Packet{}, ErrForeign // unknown kind, or a reserved byte version 2 never sets
	}
	n := int(binary.BigEndian.Uint16(b[58:]))
	end := headerLen + n
	authed := p.Flags&FlagAuth != 0
	want := end
	if authed {
		want += macLen
	}
	if len(b) != want {
		return Packet{}, ErrLength
	}
	p.Body = b[headerLen:end]
	switch {
	case len(key) > 0 && !authed, len(key) == 0 && authed:
		return p, ErrAuth
	case authed && !hmac.Equal(b[end:], mac(key, b[:end])):
		return p, ErrAuth
	}
	return p, nil
}

func mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)[:macLen]
}

// sizeOf is the length of p encoded with or without a key.
func sizeOf(bodyLen int, keyed bool) int {
	if keyed {
		return headerLen + bodyLen + macLen
	}
	return headerLen + bodyLen
}
