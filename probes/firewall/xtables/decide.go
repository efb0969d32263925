package xtables

import (
	"encoding/binary"
	"fmt"

	"github.com/clusterdoctor/clusterdoctor/probes/firewall/nft"
)

// Netfilter verdicts; a standard target holds -verdict-1, or a jump's offset.
const (
	nfDrop   = 0
	nfAccept = 1
	nfRepeat = 4 // XT_RETURN is -NF_REPEAT-1
)

// table is how the summary names what decided.
const table = "legacy iptables' filter table"

// Decide runs p through the INPUT chain: its rules in order, jumps to user chains and
// returns, then the chain's policy (the last entry before the next chain).
func (t *Table) Decide(p nft.Packet) nft.Decision {
	d := nft.Decision{}
	var stack []uint32
	off := t.input
	for steps := 0; steps < 100000; steps++ {
		e, err := t.entryAt(off)
		if err != nil {
			return nft.Decision{Unknown: err.Error()}
		}
		ok, err := e.matchIP(p, &d)
		if err == nil && ok {
			for _, m := range e.matches {
				if ok, err = matchExt(m, p, &d); err != nil || !ok {
					break
				}
			}
		}
		if err != nil {
			return nft.Decision{Unknown: fmt.Sprintf("legacy iptables rule at offset %d: %v", e.off, err)}
		}
		if !ok {
			off += uint32(e.next)
			continue
		}
		by := fmt.Sprintf("legacy iptables filter rule at offset %d", e.off)
		if e.off == t.policy {
			by = "the policy of legacy iptables' INPUT chain"
		}
		switch e.target.name {
		case "", "standard":
			if len(e.target.data) < 4 {
				return nft.Decision{Unknown: "legacy iptables: short standard target"}
			}
			v := int32(binary.NativeEndian.Uint32(e.target.data))
			switch {
			case v == -nfAccept-1:
				return nft.Decision{Accepted: true, By: by, Table: table, ReadSource: d.ReadSource}
			case v == -nfDrop-1:
				return nft.Decision{Accepted: false, By: by, Table: table, ReadSource: d.ReadSource}
			case v == -nfRepeat-1: // RETURN
				if len(stack) == 0 {
					return nft.Decision{Unknown: "legacy iptables: RETURN from INPUT itself"}
				}
				off, stack = stack[len(stack)-1], stack[:len(stack)-1]
			case v >= 0:
				if uint32(v) == off+uint32(e.next) { // a fall-through: the jump is to the next rule
					off = uint32(v)
					continue
				}
				stack = append(stack, off+uint32(e.next))
				off = uint32(v)
			default:
				return nft.Decision{Unknown: fmt.Sprintf("legacy iptables verdict %d", v)}
			}
		case "REJECT":
			return nft.Decision{Accepted: false, By: by, Table: table, ReadSource: d.ReadSource}
		case "LOG", "NFLOG":
			off += uint32(e.next)
		case "ERROR":
			return nft.Decision{Unknown: "legacy iptables: ran off the end of a chain"}
		default:
			return nft.Decision{Unknown: fmt.Sprintf("legacy iptables target %s is not evaluated", e.target.name)}
		}
		if len(stack) > 64 {
			return nft.Decision{Unknown: "legacy iptables: jumps nested too deep"}
		}
	}
	return nft.Decision{Unknown: "legacy iptables: the INPUT chain does not end"}
}

// matchIP is struct ipt_ip: addresses under masks, input interface, protocol.
func (e *entry) matchIP(p nft.Packet, d *nft.Decision) (bool, error) {
	src, dst := p.Src.As4(), p.Dst.As4()
	masked := func(a, want, mask [4]byte) bool {
		for i := range a {
			if a[i]&mask[i] != want[i]&mask[i] {
				return false
			}
		}
		return true
	}
	if e.smsk != [4]byte{} {
		d.ReadSource = true
	}
	if masked(src, e.src, e.smsk) == (e.invflags&invSrcIP != 0) {
		return false, nil
	}
	if masked(dst, e.dst, e.dmsk) == (e.invflags&invDstIP != 0) {
		return false, nil
	}
	var name [16]byte
	copy(name[:], p.Iface)
	ifOK := true
	for i := range name {
		if e.inmask[i] != 0 && name[i] != e.iniface[i] {
			ifOK = false
		}
	}
	if ifOK == (e.invflags&invVIA != 0) {
		return false, nil
	}
	if e.proto != 0 && (uint16(p.Proto) == e.proto) == (e.invflags&invProto != 0) {
		return false, nil
	}
	return true, nil
}

func matchExt(m ext, p nft.Packet, d *nft.Decision) (bool, error) {
	ne := binary.NativeEndian
	switch m.name {
	case "udp", "tcp":
		if len(m.data) < 8 {
			return false, fmt.Errorf("short %s match", m.name)
		}
		// struct xt_udp: spts[2], dpts[2], invflags; struct xt_tcp: the same ports, then
		// option, flg_mask, flg_cmp, invflags.
		inv := m.data[8]
		if m.name == "tcp" {
			if len(m.data) < 12 {
				return false, fmt.Errorf("short tcp match")
			}
			inv = m.data[11]
		}
		sLo, sHi, dLo, dHi := ne.Uint16(m.data), ne.Uint16(m.data[2:]), ne.Uint16(m.data[4:]), ne.Uint16(m.data[6:])
		if sLo != 0 || sHi != 0xffff {
			d.ReadSource = true
		}
		if (sLo <= p.Sport && p.Sport <= sHi) == (inv&0x01 != 0) {
			return false, nil
		}
		return (dLo <= p.Dport && p.Dport <= dHi) != (inv&0x02 != 0), nil
	case "state":
		if len(m.data) < 4 {
			return false, fmt.Errorf("short state match")
		}
		return ne.Uint32(m.data)&(1<<(2+1)) != 0, nil // XT_STATE_BIT(IP_CT_NEW)
	case "conntrack":
		return conntrack(m)
	case "comment":
		return true, nil
	}
	return false, fmt.Errorf("iptables match %s is not evaluated", m.name)
}

// conntrack runs struct xt_conntrack_mtinfo1..3 when it only tests the state (what
// `-m state --state` becomes): eight 16-byte addresses, expiry, ports, then match_flags,
// invert_flags and state_mask (u8 in revision 1, u16 after).
func conntrack(m ext) (bool, error) {
	ne := binary.NativeEndian
	if m.rev < 1 || m.rev > 3 || len(m.data) < 152 {
		return false, fmt.Errorf("iptables conntrack match revision %d is not evaluated", m.rev)
	}
	const state, stateAlias = 1, 1 << 13
	flags, inv := ne.Uint16(m.data[146:]), ne.Uint16(m.data[148:])
	if flags&^(state|stateAlias) != 0 {
		return false, fmt.Errorf("iptables conntrack match with more than --ctstate is not evaluated")
	}
	mask := uint16(m.data[150])
	if m.rev > 1 {
		mask = ne.Uint16(m.data[150:])
	}
	return (mask&(1<<(2+1)) != 0) != (inv&state != 0), nil // XT_CONNTRACK_STATE_BIT(IP_CT_NEW)
}

// ForwardUntouched says whether FORWARD has no rule and accepts by its policy, as the
// kernel makes the table in every namespace: then it decides nothing.
func (t *Table) ForwardUntouched() bool {
	if t.forward != t.fpol {
		return false
	}
	e, err := t.entryAt(t.fpol)
	if err != nil || len(e.target.data) < 4 {
		return false
	}
	return int32(binary.NativeEndian.Uint32(e.target.data)) == -nfAccept-1
}
