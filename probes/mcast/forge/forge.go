// Package forge builds forged clusterdoctor requests, for the tests and benchmarks that
// flood a responder with them (probes/lab sends them). Never used by the tool itself.
package forge

import (
	"math/rand/v2"

	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
)

// Kinds are the requests a flood forges: every kind a responder answers, with
// random sender ids, sequence numbers (up to the largest) and cookies, the queries padded
// as a real client pads them, and junk.
var Kinds = []struct {
	Name string
	Make func(r *rand.Rand) []byte
}{
	{"hello", func(r *rand.Rand) []byte {
		return mcast.Encode(nil, &mcast.Packet{Kind: mcast.KindHello, Sender: r.Uint64(), Seq: r.Uint32()}, nil)
	}},
	{"echo", func(r *rand.Rand) []byte {
		return mcast.Encode(nil, &mcast.Packet{Kind: mcast.KindEcho, Sender: r.Uint64(), Seq: r.Uint32(), Cookie: r.Uint64()}, nil)
	}},
	{"echo marked multicast", func(r *rand.Rand) []byte {
		return mcast.Encode(nil, &mcast.Packet{Kind: mcast.KindEcho, Flags: mcast.FlagMulticast, Sender: r.Uint64(), Seq: r.Uint32(), Cookie: r.Uint64()}, nil)
	}},
	{"stats request", func(r *rand.Rand) []byte {
		return mcast.Encode(nil, &mcast.Packet{Kind: mcast.KindStatsReq, Sender: r.Uint64(), Seq: r.Uint32(), Cookie: r.Uint64(), Body: make([]byte, 400)}, nil)
	}},
	{"info request", func(r *rand.Rand) []byte {
		return mcast.Encode(nil, &mcast.Packet{Kind: mcast.KindInfoReq, Sender: r.Uint64(), Seq: r.Uint32(), Cookie: r.Uint64(), Body: make([]byte, 600)}, nil)
	}},
	{"junk", func(r *rand.Rand) []byte {
		b := make([]byte, 1+r.IntN(300))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if r.IntN(2) == 0 && len(b) >= 4 {
			copy(b, "CDMT")
		}
		return b
	}},
}
