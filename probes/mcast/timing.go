package mcast

import (
	"math"
	"time"
)

// sample is one echo's four timestamps, NTP style: t1 our send time, t2 the peer's
// receive time, t3 its send time (both on its clock), t4 our receive time; the receive
// times are the kernel's (SO_TIMESTAMPNS), the send times taken just before the system
// call.
type sample struct{ t1, t2, t3, t4 int64 }

// rtt is the whole round trip, on our clock.
func (s sample) rtt() time.Duration { return time.Duration(s.t4 - s.t1) }

// delay is the round trip without the time the peer held the request: what the network
// (and both kernels) took. It needs no agreement between the clocks.
func (s sample) delay() time.Duration {
	held := s.t3 - s.t2
	if s.t2 == 0 || held < 0 || time.Duration(held) > s.rtt() {
		return s.rtt()
	}
	return s.rtt() - time.Duration(held)
}

// offset is the peer's clock minus ours; it is off by at most delay/2.
func (s sample) offset() time.Duration {
	return time.Duration(((s.t2 - s.t1) + (s.t3 - s.t4)) / 2)
}

// replyLog is the replies to one path's requests: which seqs were answered, the round
// trips and delays, and the sample with the least delay (the best clock estimate).
type replyLog struct {
	seen       window
	rtt, delay []time.Duration
	best       sample
	clocked    bool
	// last is when the last reply arrived.
	last time.Time
}

func (l *replyLog) add(s sample) {
	l.last = time.Unix(0, s.t4)
	l.rtt = append(l.rtt, s.rtt())
	l.delay = append(l.delay, s.delay())
	if s.t2 != 0 && (!l.clocked || s.delay() < l.best.delay()) {
		l.best, l.clocked = s, true
	}
}

// ClockResult is the peer's clock against ours, from the echo with the least delay.
type ClockResult struct {
	// OffsetMs is the peer's clock minus ours; ErrorMs bounds how far off that may be.
	OffsetMs float64 `json:"offsetMs"`
	ErrorMs  float64 `json:"errorMs"`
	// MaxSkewMs is the limit above which the offset is a problem.
	MaxSkewMs float64 `json:"maxSkewMs"`
	Samples   int     `json:"samples"`
}

func clockOf(l *replyLog, maxSkew time.Duration) *ClockResult {
	if !l.clocked {
		return nil
	}
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
	return &ClockResult{OffsetMs: ms(l.best.offset()), ErrorMs: ms(l.best.delay() / 2), MaxSkewMs: ms(maxSkew), Samples: len(l.rtt)}
}

// Skewed reports whether the offset is beyond the limit even at the edge of its error.
func (c *ClockResult) Skewed() bool {
	return c != nil && math.Abs(c.OffsetMs)-c.ErrorMs > c.MaxSkewMs
}
