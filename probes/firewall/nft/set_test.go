package nft

import (
	"encoding/binary"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

func port(p uint16) []byte { return binary.BigEndian.AppendUint16(nil, p) }

// TestIntervalSetFind: ranges as the kernel dumps them (start, then an end flagged
// IntervalEnd one past the last port), in any order.
func TestIntervalSetFind(t *testing.T) {
	s := &set{s: &nftables.Set{Interval: true}, elems: []nftables.SetElement{
		{Key: port(8010), IntervalEnd: true}, {Key: port(8009)},
		{Key: port(4101), IntervalEnd: true}, {Key: port(4000)},
		{Key: port(0), IntervalEnd: true},
	}}
	sortInterval(s)
	for p, want := range map[uint16]bool{3999: false, 4000: true, 4100: true, 4101: false, 8009: true, 8010: false, 0: false} {
		if _, got := s.find(port(p)); got != want {
			t.Errorf("find(%d) = %v, want %v", p, got, want)
		}
	}
	plain := &set{s: &nftables.Set{}, elems: []nftables.SetElement{{Key: port(45564)}}}
	if _, ok := plain.find(append(port(45564), 0, 0)); !ok {
		t.Error("exact element not found")
	}
	if _, ok := plain.find(port(45565)); ok {
		t.Error("absent element found")
	}
}

func TestVerdictOf(t *testing.T) {
	attr := func(typ uint16, data []byte) []byte {
		b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(data)))
		b = binary.NativeEndian.AppendUint16(b, typ)
		b = append(b, data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	jump := int32(expr.VerdictJump)
	code := binary.BigEndian.AppendUint32(nil, uint32(jump))
	val := append(attr(unix.NFTA_VERDICT_CODE, code), attr(unix.NFTA_VERDICT_CHAIN, []byte("in_cl0\x00"))...)
	v, err := verdictOf(&nftables.SetElement{Val: val})
	if err != nil || v.Kind != expr.VerdictJump || v.Chain != "in_cl0" {
		t.Errorf("verdictOf = %+v, %v", v, err)
	}
	if _, err := verdictOf(&nftables.SetElement{Val: []byte{1, 2}}); err == nil {
		t.Error("garbage read as a verdict")
	}
}

func FuzzVerdictOf(f *testing.F) {
	f.Add([]byte{8, 0, 1, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		verdictOf(&nftables.SetElement{Val: b})
	})
}
