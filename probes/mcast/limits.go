package mcast

import (
	"net/netip"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// bucket is a token bucket.
type bucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

func newBucket(rate, burst float64, now time.Time) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// take takes one token if there is one.
func (b *bucket) take(now time.Time) bool {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// limiter bounds replies per source and in all. A source's bucket lives in a table of
// fixed size (the least recently seen source is forgotten first). A source not in the
// table must first draw on the newcomers bucket, so forgetting frees nobody: a flood of
// new (forged) sources runs dry there, while sources already known, a real peer among
// them, keep their own budgets. Everything also draws on the global bucket, a ceiling
// that is never reset.
type limiter struct {
	perRate, perBurst, firstBurst float64
	sources                       *simplelru.LRU[netip.Addr, *bucket]
	newcomers, global             *bucket
}

func newLimiter(perRate, perBurst, firstBurst, newRate, globalRate float64, tracked int, now time.Time) *limiter {
	lru, _ := simplelru.NewLRU[netip.Addr, *bucket](tracked, nil)
	return &limiter{perRate: perRate, perBurst: perBurst, firstBurst: firstBurst, sources: lru,
		newcomers: newBucket(newRate, newRate/10, now), global: newBucket(globalRate, globalRate/10, now)}
}

// allow takes a token from addr's bucket (a newcomer's first from the newcomers bucket)
// and from the global one.
func (l *limiter) allow(addr netip.Addr, now time.Time) bool {
	b, ok := l.sources.Get(addr)
	if !ok {
		if !l.newcomers.take(now) {
			return false
		}
		b = newBucket(l.perRate, l.perBurst, now)
		b.tokens = l.firstBurst
		l.sources.Add(addr, b)
	}
	if !b.take(now) {
		return false
	}
	return l.global.take(now)
}

// Reply limits. Proven sources (a valid cookie) get far more than any test sends. The
// rest (HelloVerify, AuthRequired) get what a handshake needs: three answers, then one a
// second, and first contacts are limited in all. That also bounds what replies to forged
// addresses (which wait for ARP about 3 s in the kernel's neighbour queue) can hold of
// the strangers' socket's send buffer: about newcomers/s x 3 answers x 3 s.
const (
	provenRate, provenBurst, provenGlobal = 20000.0, 2000.0, 100000.0
	strangerRate, strangerBurst           = 1.0, 3.0
	strangerNew, strangerGlobal           = 200.0, 2000.0
	trackedSources                        = 4096
	// strangeSendBuffer holds strangerNew x 3 x 3 s answers of a HelloVerify's size
	// (about 800 bytes each as the kernel counts them) with room to spare.
	strangeSendBuffer = 4 << 20
)
