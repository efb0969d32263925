package xtables

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes/firewall/nft"
)

var packet = nft.Packet{Iface: "cl0", Proto: unix.IPPROTO_UDP, Src: netip.MustParseAddr("10.0.0.2"),
	Dst: netip.MustParseAddr("228.0.0.4"), Sport: 45564, Dport: 45564, DstType: unix.RTN_MULTICAST}

// FuzzDecide: whatever bytes the table holds, Decide answers (often unknown), never
// panics and never loops forever.
func FuzzDecide(f *testing.F) {
	f.Add(make([]byte, 112+40))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := (&Table{blob: b}).Decide(packet)
		if d.Unknown == "" && d.By == "" {
			t.Fatalf("a decision without a reason: %+v", d)
		}
	})
}
