package nft

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// set is a named or anonymous set (or map) with its elements, read once.
type set struct {
	s     *nftables.Set
	elems []nftables.SetElement
}

func (rs *Ruleset) set(t *nftables.Table, name string) (*set, error) {
	k := chainKey{t.Family, t.Name, name}
	if s, ok := rs.sets[k]; ok {
		return s, nil
	}
	s, err := rs.conn.GetSetByName(t, name)
	if err != nil {
		return nil, fmt.Errorf("nftables: set %s: %w", name, err)
	}
	elems, err := rs.conn.GetSetElements(s)
	if err != nil {
		return nil, fmt.Errorf("nftables: elements of set %s: %w", name, err)
	}
	out := &set{s: s, elems: elems}
	sortInterval(out)
	rs.sets[k] = out
	return out, nil
}

// sortInterval orders an interval set's elements by key, ends before starts at the same
// key (an interval ending at X, exclusive, and the next starting at X).
func sortInterval(s *set) {
	if !s.s.Interval {
		return
	}
	sort.SliceStable(s.elems, func(i, j int) bool {
		if c := bytes.Compare(s.elems[i].Key, s.elems[j].Key); c != 0 {
			return c < 0
		}
		return s.elems[i].IntervalEnd && !s.elems[j].IntervalEnd
	})
}

// find returns the element holding key: equal keys, or for interval sets the range
// [start, end) around it (or [Key, KeyEnd] in sets of concatenated ranges).
func (s *set) find(key []byte) (*nftables.SetElement, bool) {
	if !s.s.Interval {
		for i := range s.elems {
			if bytes.Equal(s.elems[i].Key, key[:min(len(key), len(s.elems[i].Key))]) && len(s.elems[i].Key) > 0 {
				return &s.elems[i], true
			}
		}
		return nil, false
	}
	var hit *nftables.SetElement
	for i := range s.elems {
		e := &s.elems[i]
		k := key[:min(len(key), len(e.Key))]
		if e.KeyEnd != nil {
			if bytes.Compare(e.Key, k) <= 0 && bytes.Compare(k, e.KeyEnd[:min(len(k), len(e.KeyEnd))]) <= 0 {
				return e, true
			}
			continue
		}
		if bytes.Compare(e.Key, k) <= 0 {
			hit = e
		}
	}
	if hit != nil && !hit.IntervalEnd {
		return hit, true
	}
	return nil, false
}

// verdictOf reads a verdict map element's verdict: the nested NFTA_VERDICT_CODE and
// NFTA_VERDICT_CHAIN attributes the kernel sends as the element's data.
func verdictOf(e *nftables.SetElement) (expr.Verdict, error) {
	if e.VerdictData != nil {
		return *e.VerdictData, nil
	}
	var v expr.Verdict
	found := false
	for b := e.Val; len(b) >= 4; {
		n := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:]) & 0x3fff
		if n < 4 || n > len(b) {
			break
		}
		data := b[4:n]
		switch {
		case typ == unix.NFTA_VERDICT_CODE && len(data) == 4:
			v.Kind, found = expr.VerdictKind(int32(binary.BigEndian.Uint32(data))), true
		case typ == unix.NFTA_VERDICT_CHAIN:
			v.Chain = string(bytes.TrimRight(data, "\x00"))
		}
		b = b[min((n+3)&^3, len(b)):]
	}
	if !found {
		return v, fmt.Errorf("element without a verdict")
	}
	return v, nil
}
