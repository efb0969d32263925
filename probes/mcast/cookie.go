package mcast

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"net/netip"
	"sync"
	"time"
)

// cookieSlot is how long a cookie is current; one slot more it is still accepted. Its
// lifetime is the freshness window of keyed requests: a packet captured and replayed
// after it is refused, whatever the hosts' clocks say (they may disagree: measuring
// that is one of the things the protocol is for).
const cookieSlot = 30 * time.Second

// cookies makes and checks stateless cookies, as DTLS's HelloVerifyRequest does: a MAC
// over the source address, the sender id and a time slot, with a secret of this process.
// Only a host that can receive at an address learns the cookie for it, so nothing is
// answered beyond a same-size HelloVerify for a source that has not proven it, and no
// state is kept for it.
type cookies struct {
	secret [32]byte
	macs   sync.Pool // of *cookieMAC: no allocation per request
}

// cookieMAC is an HMAC keyed with the secret and its scratch space, reused.
type cookieMAC struct {
	h        hash.Hash
	msg, sum [32]byte
}

func newCookies() *cookies {
	c := &cookies{}
	rand.Read(c.secret[:])
	c.macs.New = func() any { return &cookieMAC{h: hmac.New(sha256.New, c.secret[:])} }
	return c
}

func (c *cookies) at(slot int64, addr netip.Addr, sender uint64) uint64 {
	m := c.macs.Get().(*cookieMAC)
	defer c.macs.Put(m)
	m.h.Reset()
	binary.BigEndian.PutUint64(m.msg[0:], uint64(slot))
	a := addr.As16()
	copy(m.msg[8:], a[:])
	binary.BigEndian.PutUint64(m.msg[24:], sender)
	m.h.Write(m.msg[:])
	v := binary.BigEndian.Uint64(m.h.Sum(m.sum[:0]))
	return v | 1 // never 0, which means "no cookie"
}

// make is the current cookie for a source.
func (c *cookies) make(addr netip.Addr, sender uint64, now time.Time) uint64 {
	return c.at(now.UnixNano()/int64(cookieSlot), addr, sender)
}

// valid reports whether v is the current or the previous slot's cookie for the source.
func (c *cookies) valid(v uint64, addr netip.Addr, sender uint64, now time.Time) bool {
	if v == 0 {
		return false
	}
	slot := now.UnixNano() / int64(cookieSlot)
	return eq64(v, c.at(slot, addr, sender)) || eq64(v, c.at(slot-1, addr, sender))
}

// eq64 compares in constant time, as hmac.Equal does, without allocating.
func eq64(a, b uint64) bool {
	var x, y [8]byte
	binary.BigEndian.PutUint64(x[:], a)
	binary.BigEndian.PutUint64(y[:], b)
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}
