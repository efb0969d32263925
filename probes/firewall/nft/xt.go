package nft

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
)

// xtMatch runs the iptables matches that iptables-nft keeps in their compat form
// (addrtype, conntrack, multiport, comment); others are reported, not guessed.
func (ev *evaluator) xtMatch(m *expr.Match) (bool, error) {
	switch info := m.Info.(type) {
	case *xt.AddrType:
		return ev.addrType(info.Source, info.Dest, info.InvertSource, info.InvertDest), nil
	case *xt.AddrTypeV1:
		const invertSource, invertDest = 1, 2 // XT_ADDRTYPE_INVERT_*
		return ev.addrType(info.Source, info.Dest, info.Flags&invertSource != 0, info.Flags&invertDest != 0), nil
	case *xt.ConntrackMtinfo1:
		return conntrack(&info.ConntrackMtinfoBase, uint16(info.StateMask))
	case *xt.ConntrackMtinfo2:
		return conntrack(&info.ConntrackMtinfoBase, info.StateMask)
	case *xt.ConntrackMtinfo3:
		return conntrack(&info.ConntrackMtinfoBase, info.StateMask)
	case *xt.Comment:
		return true, nil
	case *xt.Unknown:
		switch m.Name {
		case "comment":
			return true, nil
		case "multiport":
			if m.Rev == 1 {
				return ev.multiport(*info)
			}
		}
	}
	return false, fmt.Errorf("iptables match %s (revision %d) is not evaluated", m.Name, m.Rev)
}

// addrType: the sender is a unicast address; the destination is local or multicast.
func (ev *evaluator) addrType(src, dst uint16, invSrc, invDst bool) bool {
	if src != 0 {
		ev.readSource = true
		if (src&uint16(xt.AddrTypeUnicast) != 0) == invSrc {
			return false
		}
	}
	if dst != 0 {
		want := uint16(xt.AddrTypeLocal)
		if ev.p.DstType == unix.RTN_MULTICAST {
			want = uint16(xt.AddrTypeMulticast)
		}
		if (dst&want != 0) == invDst {
			return false
		}
	}
	return true
}

// conntrack: only --ctstate is run; a new flow's first packet is in state NEW.
func conntrack(b *xt.ConntrackMtinfoBase, stateMask uint16) (bool, error) {
	stateFlags := xt.ConntrackState | xt.ConntrackStateAlias
	if xt.ConntrackFlags(b.MatchFlags)&^stateFlags != 0 {
		return false, fmt.Errorf("iptables conntrack match with more than --ctstate is not evaluated")
	}
	const newBit = 1 << (2 + 1) // XT_CONNTRACK_STATE_BIT(IP_CT_NEW)
	hit := stateMask&newBit != 0
	if xt.ConntrackFlags(b.InvertFlags)&xt.ConntrackState != 0 {
		hit = !hit
	}
	return hit, nil
}

// multiport reads struct xt_multiport_v1: flags, count, ports[15], pflags[15], invert.
func (ev *evaluator) multiport(b []byte) (bool, error) {
	if len(b) < 48 {
		return false, fmt.Errorf("iptables multiport match of %d bytes", len(b))
	}
	flags, count, invert := b[0], int(b[1]), b[47] != 0
	if count > 15 {
		return false, fmt.Errorf("iptables multiport match with %d ports", count)
	}
	if ev.p.Proto != unix.IPPROTO_TCP && ev.p.Proto != unix.IPPROTO_UDP {
		return false, nil
	}
	port := func(i int) uint16 { return binary.NativeEndian.Uint16(b[2+2*i:]) }
	in := func(p uint16) bool {
		for i := 0; i < count; i++ {
			if b[32+i] != 0 && i+1 < count { // a range: ports[i]..ports[i+1]
				if port(i) <= p && p <= port(i+1) {
					return true
				}
				i++
				continue
			}
			if port(i) == p {
				return true
			}
		}
		return false
	}
	var hit bool
	switch flags {
	case 0: // --sports
		ev.readSource = true
		hit = in(ev.p.Sport)
	case 1: // --dports
		hit = in(ev.p.Dport)
	default: // --ports: either
		ev.readSource = true
		hit = in(ev.p.Sport) || in(ev.p.Dport)
	}
	return hit != invert, nil
}
