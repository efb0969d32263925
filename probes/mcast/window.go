package mcast

import (
	"math/bits"
	"time"
)

// windowBits is how far back a sequence number is remembered per sender and path: far
// more than any reordering on a LAN, and a fixed 512 bytes whatever a packet claims.
const windowBits = 4096

// seen is what a sequence number turned out to be.
type seen uint8

const (
	seenNew       seen = iota // first time
	seenDuplicate             // already received
	seenStale                 // older than the window: cannot be told apart
	seenInvalid               // seq 0, never sent
)

// window counts one sender's requests on one path, remembering the last windowBits
// sequence numbers in a ring: received, duplicates, reordering.
type window struct {
	in   Inbound
	ring [windowBits / 64]uint64
	// last is when the last new request arrived (the kernel's timestamp).
	last time.Time
}

func (w *window) bit(seq uint32) (*uint64, uint64) {
	i := seq % windowBits
	return &w.ring[i/64], 1 << (i % 64)
}

// add records seq (and the TTL it arrived with, when known).
func (w *window) add(seq uint32, ttl int) seen {
	switch {
	case seq == 0:
		return seenInvalid
	case w.in.Received == 0 || seq > w.in.MaxSeq:
		w.advance(seq)
	case w.in.MaxSeq-seq >= windowBits:
		return seenStale
	default:
		word, b := w.bit(seq)
		if *word&b != 0 {
			w.in.Duplicates++
			return seenDuplicate
		}
		w.in.Reordered++
	}
	word, b := w.bit(seq)
	*word |= b
	w.in.Received++
	if w.in.FirstSeq == 0 || seq < w.in.FirstSeq {
		w.in.FirstSeq = seq
	}
	if ttl > 0 {
		w.in.TTL = uint8(ttl)
	}
	return seenNew
}

// advance moves the top of the window to seq, forgetting what falls out of it.
func (w *window) advance(seq uint32) {
	if w.in.Received == 0 || seq-w.in.MaxSeq >= windowBits {
		clear(w.ring[:])
	} else {
		for s := w.in.MaxSeq + 1; s != seq; s++ {
			word, b := w.bit(s)
			*word &^= b
		}
		word, b := w.bit(seq)
		*word &^= b
	}
	w.in.MaxSeq = seq
}

// countUpTo is how many distinct seqs <= max were received: the fair count against a
// sender that had sent exactly max requests when it said so. Seqs older than the window
// are taken as received once each.
func (w *window) countUpTo(max uint32) uint32 {
	if max >= w.in.MaxSeq {
		return w.in.Received
	}
	if w.in.MaxSeq-max >= windowBits {
		return 0
	}
	above := uint32(0) // received seqs in (max, MaxSeq]
	for s := max + 1; ; s++ {
		word, b := w.bit(s)
		if *word&b != 0 {
			above++
		}
		if s == w.in.MaxSeq {
			break
		}
	}
	return w.in.Received - min(above, w.in.Received)
}

// ones is how many seqs the window holds (tests).
func (w *window) ones() int {
	n := 0
	for _, v := range w.ring {
		n += bits.OnesCount64(v)
	}
	return n
}
