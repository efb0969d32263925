package mcast

import (
	"context"
	"math"
	"net"
	"net/netip"
	"sort"
	"time"

	"golang.org/x/net/ipv4"
)

// batchSize is how many datagrams one sendmmsg/recvmmsg call moves: enough that the
// system-call cost per packet disappears at 100k packets per second.
const batchSize = 64

// SendReport is `mcast-test --send`: what was sent to the group.
type SendReport struct {
	Sent       uint64  `json:"sent"`
	Errors     uint64  `json:"errors"`
	RatePPS    float64 `json:"ratePps"`
	DurationMs int64   `json:"durationMs"`
	Size       int     `json:"size"`
}

// SendOnly sends multicast echo requests to the group the Tomcat way (no interface set),
// count of them at rate packets per second (0: one per cfg.Interval), in batches
// (sendmmsg). Like `iperf -c GROUP -u -T TTL`, but the receiver can also tell loss,
// duplicates and reordering per sender.
func (n *Node) SendOnly(ctx context.Context, count, rate int) SendReport {
	group := &net.UDPAddr{IP: net.IP(n.cfg.Group.AsSlice()), Port: n.cfg.Port}
	size := max(n.cfg.Size, headerLen)
	pad := make([]byte, size-headerLen)
	if len(n.cfg.Key) > 0 && len(pad) >= macLen {
		pad = pad[:len(pad)-macLen]
	}
	gap := n.cfg.Interval
	if rate > 0 {
		gap = time.Second / time.Duration(rate)
	}
	// Send in bursts of up to batchSize, each burst on its own schedule slot, so the rate
	// holds on average and the kernel sees few system calls.
	burst := 1
	if gap < time.Millisecond {
		burst = min(batchSize, int(time.Millisecond/gap)+1)
	}
	msgs := make([]ipv4.Message, burst)
	bufs := make([][]byte, burst)
	for i := range msgs {
		bufs[i] = make([]byte, 0, size+macLen)
		msgs[i].Addr = group
	}
	var rep SendReport
	rep.Size = size
	start := time.Now()
	var seq uint32
	for int(seq) < count && ctx.Err() == nil {
		k := min(burst, count-int(seq))
		now := time.Now().UnixNano()
		for i := 0; i < k; i++ {
			seq++
			bufs[i] = Encode(bufs[i][:0], &Packet{Kind: KindEcho, Flags: FlagMulticast, Sender: n.id, Seq: seq, Sent: now, TTL: uint8(n.cfg.TTL), Body: pad}, n.cfg.Key)
			msgs[i].Buffers = [][]byte{bufs[i]}
		}
		for off := 0; off < k; {
			m, err := n.conn.WriteBatch(msgs[off:k], 0)
			if err != nil {
				rep.Errors += uint64(k - off)
				break
			}
			off += m
			rep.Sent += uint64(m)
		}
		if wait := time.Until(start.Add(time.Duration(seq) * gap)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}
	}
	el := time.Since(start)
	rep.DurationMs = el.Milliseconds()
	if el > 0 {
		rep.RatePPS = math.Round(float64(rep.Sent) / el.Seconds())
	}
	return rep
}

// SenderReport is what `mcast-test --listen` saw of one sender.
type SenderReport struct {
	Sender     string  `json:"sender"`
	Received   uint32  `json:"received"`
	Lost       uint32  `json:"lost"`
	LossPct    float64 `json:"lossPct"`
	Duplicates uint32  `json:"duplicates"`
	Reordered  uint32  `json:"reordered"`
	JitterMs   float64 `json:"jitterMs"`
	TTL        int     `json:"ttl"`
}

// maxListenSenders bounds the senders --listen reports; far more than a cluster has.
const maxListenSenders = 1024

type listenState struct {
	addr   netip.Addr
	track  window
	jitter float64 // RFC 3550 interarrival jitter, ns
	prev   struct{ sent, arrived int64 }
}

// ListenOnly receives on the group for d (or until ctx ends, or until idle passes after
// the last datagram once something arrived) and reports per sender, like
// `iperf -s -u -B GROUP`, without answering anyone. Loss is counted against the highest
// seq seen, so packets lost at the very end of a run are not visible: send a few more.
func (n *Node) ListenOnly(ctx context.Context, d, idle time.Duration) ([]SenderReport, uint64) {
	msgs := make([]ipv4.Message, batchSize)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, MaxPacket)}
		msgs[i].OOB = make([]byte, oobSize)
	}
	senders := map[uint64]*listenState{}
	var foreign uint64
	end := time.Now().Add(d)
	last := time.Time{}
	for ctx.Err() == nil && time.Now().Before(end) {
		dl := end
		if !last.IsZero() && idle > 0 {
			dl = minTime(dl, last.Add(idle))
		}
		n.raw.SetReadDeadline(minTime(dl, time.Now().Add(100*time.Millisecond)))
		k, err := n.conn.ReadBatch(msgs, 0)
		now := time.Now()
		if err != nil {
			if !last.IsZero() && idle > 0 && now.Sub(last) >= idle {
				break
			}
			continue
		}
		for _, m := range msgs[:k] {
			p, err := Decode(m.Buffers[0][:m.N], n.cfg.Key)
			if err != nil || p.Kind != KindEcho || p.Sender == n.id {
				foreign++
				continue
			}
			st := senders[p.Sender]
			ttl := 0
			if st == nil && len(senders) >= maxListenSenders {
				foreign++ // bounded whatever arrives: a flood of ids is counted, not kept
				continue
			}
			if st == nil {
				st = &listenState{}
				if a, ok := m.Addr.(*net.UDPAddr); ok {
					st.addr = a.AddrPort().Addr().Unmap()
				}
				senders[p.Sender] = st
				// The TTL is read from a sender's first packet only: it does not change
				// within a run, and parsing every control message costs at 100k pps.
				var d datagram
				parseOOB(m.OOB[:m.NN], &d)
				ttl = d.ttl
			}
			if st.track.add(p.Seq, ttl) == seenNew {
				arrived := now.UnixNano()
				if st.prev.sent != 0 {
					dd := float64((arrived - st.prev.arrived) - (p.Sent - st.prev.sent))
					st.jitter += (math.Abs(dd) - st.jitter) / 16
				}
				st.prev.sent, st.prev.arrived = p.Sent, arrived
			}
			last = now
		}
	}
	out := make([]SenderReport, 0, len(senders))
	for _, st := range senders {
		in := st.track.in
		lost := uint32(0)
		if in.FirstSeq > 0 {
			lost = in.MaxSeq - in.FirstSeq + 1 - min(in.Received, in.MaxSeq-in.FirstSeq+1)
		}
		r := SenderReport{Sender: st.addr.String(), Received: in.Received, Lost: lost, Duplicates: in.Duplicates,
			Reordered: in.Reordered, JitterMs: math.Round(st.jitter/1e3) / 1e3, TTL: int(in.TTL)}
		if total := in.Received + lost; total > 0 {
			r.LossPct = pct(lost, total)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sender < out[j].Sender })
	return out, foreign
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
