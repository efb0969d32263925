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

// limiter bounds replies per source and in all: a source's bucket lives in a table of
// fixed size (the least recently seen source is forgotten first), and a source seen for
// the first time starts with a small burst, so forgetting it frees nobody: a flood of
// new sources runs into the global bucket, which is never reset.
type limiter struct {
	perRate, perBurst, firstBurst float64
	sources                       *simplelru.LRU[netip.Addr, *bucket]
	global                        *bucket
}

func newLimiter(perRate, perBurst, firstBurst, globalRate, globalBurst float64, tracked int, now time.Time) *limiter {
	lru, _ := simplelru.NewLRU[netip.Addr, *bucket](tracked, nil)
	return &limiter{perRate: perRate, perBurst: perBurst, firstBurst: firstBurst, sources: lru,
		global: newBucket(globalRate, globalBurst, now)}
}

// allow takes a token from addr's bucket and from the global one.
func (l *limiter) allow(addr netip.Addr, now time.Time) bool {
	b, ok := l.sources.Get(addr)
	if !ok {
		b = newBucket(l.perRate, l.perBurst, now)
		b.tokens = l.firstBurst
		l.sources.Add(addr, b)
	}
	if !b.take(now) {
		return false
	}
	return l.global.take(now)
}

// Reply limits. Proven sources (a valid cookie) get far more than any test sends; the
// rest (HelloVerify, AuthRequired) only what a handshake needs.
const (
	provenRate, provenBurst, provenGlobal = 20000.0, 2000.0, 100000.0
	strangerRate, strangerBurst           = 10.0, 20.0
	strangerGlobal                        = 1000.0
	trackedSources                        = 4096
)
