package nft

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
)

// Packet is the packet to decide: a new flow's first packet on the cluster interface,
// inbound or (with OutIface) forwarded.
type Packet struct {
	Iface string
	Index int // the interface's index
	// OutIface and OutIndex are the interface a forwarded packet leaves by (a bridge's
	// own, for traffic between its ports).
	OutIface     string
	OutIndex     int
	Proto        uint8 // unix.IPPROTO_UDP, _TCP, _IGMP
	Src, Dst     netip.Addr
	Sport, Dport uint16
	// DstType is the route type of Dst: unix.RTN_LOCAL (one of the host's addresses) or
	// unix.RTN_MULTICAST.
	DstType uint8
}

// Decision is what the rule set does with a Packet.
type Decision struct {
	Accepted bool
	// Unknown, when set, is why the rule set could not be decided for this packet.
	Unknown string
	// By names the rule or chain policy that decided.
	By string
	// Table is the rule set that decided, as the summary names it: "nftables table inet
	// filter", "legacy iptables' filter table".
	Table string
	// ReadSource is set when a rule on the way looked at the source address or port,
	// which the check can only guess (any peer may send).
	ReadSource bool
}

// maxDepth is the kernel's limit on nested jumps (NFT_JUMP_STACK_SIZE).
const maxDepth = 16

// Decide runs the packet through every inbound base chain in order: it is accepted when
// no chain drops it (an accept ends one base chain, not the rest).
func (rs *Ruleset) Decide(p Packet) Decision {
	return rs.decide(rs.Base, p, "no nftables chain on the input path")
}

// DecideForward runs a forwarded packet (p.OutIface set) through the forward hook's base
// chains, as Decide does the inbound ones.
func (rs *Ruleset) DecideForward(p Packet) Decision {
	return rs.decide(rs.Forward, p, "no nftables chain on the forward path")
}

func (rs *Ruleset) decide(chains []*nftables.Chain, p Packet, none string) Decision {
	last := Decision{Accepted: true, By: none, Table: "nftables"}
	for _, c := range chains {
		if rs.skip[c.Table.Name] {
			continue
		}
		if c.Table.Family == nftables.TableFamilyNetdev && c.Device != "" && c.Device != p.Iface {
			continue
		}
		ev := &evaluator{rs: rs, p: p, pkt: packetBytes(p)}
		verdict, by, err := ev.chain(c, 0)
		if err != nil {
			return Decision{Unknown: err.Error(), ReadSource: ev.readSource}
		}
		if verdict == verdictNone {
			verdict, by = expr.VerdictAccept, fmt.Sprintf("policy accept of %s", name(c))
			if c.Policy != nil && *c.Policy == nftables.ChainPolicyDrop {
				verdict, by = expr.VerdictDrop, fmt.Sprintf("policy drop of %s", name(c))
			}
		}
		last.ReadSource = last.ReadSource || ev.readSource
		table := fmt.Sprintf("nftables table %s %s", family(c.Table.Family), c.Table.Name)
		if verdict != expr.VerdictAccept {
			return Decision{Accepted: false, By: by, Table: table, ReadSource: last.ReadSource}
		}
		last.By, last.Table = by, table
	}
	return last
}

func name(c *nftables.Chain) string {
	return fmt.Sprintf("chain %s (table %s %s)", c.Name, family(c.Table.Family), c.Table.Name)
}

func family(f nftables.TableFamily) string {
	switch f {
	case nftables.TableFamilyIPv4:
		return "ip"
	case nftables.TableFamilyINet:
		return "inet"
	case nftables.TableFamilyNetdev:
		return "netdev"
	}
	return fmt.Sprint(int(f))
}

const verdictNone = expr.VerdictKind(1 << 30)

type evaluator struct {
	rs         *Ruleset
	p          Packet
	pkt        []byte // IPv4 header then the transport header
	regs       [64]byte
	readSource bool
	// dnat, in DNAT's run, is where a destination NAT sends the packet (unset until one
	// does); nil elsewhere, where a NAT statement is not evaluated.
	dnat *netip.AddrPort
}

// chain runs c's rules; verdictNone when it falls off the end (or returns).
func (ev *evaluator) chain(c *nftables.Chain, depth int) (expr.VerdictKind, string, error) {
	if depth > maxDepth {
		return 0, "", fmt.Errorf("jumps nested deeper than %d from %s", maxDepth, name(c))
	}
	rules, err := ev.rs.rulesOf(c)
	if err != nil {
		return 0, "", err
	}
	for _, r := range rules {
		v, target, err := ev.rule(c.Table, r)
		if err != nil {
			return 0, "", fmt.Errorf("%s, rule handle %d: %w", name(c), r.Handle, err)
		}
		by := fmt.Sprintf("rule handle %d of %s", r.Handle, name(c))
		switch v {
		case verdictNone, expr.VerdictContinue:
			continue
		case expr.VerdictReturn:
			return verdictNone, by, nil
		case expr.VerdictJump, expr.VerdictGoto:
			tc, ok := ev.rs.chains[chainKey{c.Table.Family, c.Table.Name, target}]
			if !ok {
				return 0, "", fmt.Errorf("%s jumps to a chain %s that is not there", by, target)
			}
			sub, subBy, err := ev.chain(tc, depth+1)
			if err != nil {
				return 0, "", err
			}
			if sub != verdictNone {
				return sub, subBy, nil
			}
			if v == expr.VerdictGoto {
				return verdictNone, subBy, nil
			}
		default:
			return v, by, nil
		}
	}
	return verdictNone, "", nil
}

// rule runs one rule: verdictNone when an expression does not match.
func (ev *evaluator) rule(t *nftables.Table, r *nftables.Rule) (expr.VerdictKind, string, error) {
	limited := ""
	for _, e := range r.Exprs {
		ok, v, target, err := ev.expr(t, e)
		if err != nil {
			return 0, "", err
		}
		if !ok {
			return verdictNone, "", nil
		}
		switch e.(type) {
		case *expr.Limit, *expr.Quota, *expr.Connlimit:
			limited = fmt.Sprintf("%T", e)
		}
		if v != verdictNone {
			if limited != "" && v != expr.VerdictContinue {
				return 0, "", fmt.Errorf("its verdict depends on a rate or quota (%s)", strings.TrimPrefix(limited, "*expr."))
			}
			return v, target, nil
		}
	}
	return verdictNone, "", nil
}

func reg(r uint32) (int, error) {
	switch {
	case r >= 1 && r <= 4:
		return int(r-1) * 16, nil
	case r >= 8 && r <= 23:
		return int(r-8) * 4, nil
	}
	return 0, fmt.Errorf("register %d", r)
}

func (ev *evaluator) load(r uint32, data []byte) error {
	off, err := reg(r)
	if err != nil || off+len(data) > len(ev.regs) {
		return fmt.Errorf("load into register %d: %v", r, err)
	}
	copy(ev.regs[off:], data)
	return nil
}

func (ev *evaluator) read(r uint32, n int) ([]byte, error) {
	off, err := reg(r)
	if err != nil || off+n > len(ev.regs) {
		return nil, fmt.Errorf("read register %d: %v", r, err)
	}
	return ev.regs[off : off+n], nil
}

// expr runs one expression: ok=false when it does not match; a verdict when it gives one.
func (ev *evaluator) expr(t *nftables.Table, e expr.Any) (ok bool, v expr.VerdictKind, target string, err error) {
	v = verdictNone
	switch e := e.(type) {
	case *expr.Meta:
		if e.SourceRegister {
			return true, v, "", nil // meta set (mark, priority): does not decide
		}
		d, err := ev.meta(e.Key)
		if err != nil {
			return false, v, "", err
		}
		return true, v, "", ev.load(e.Register, d)
	case *expr.Payload:
		if e.OperationType != expr.PayloadLoad {
			return true, v, "", nil
		}
		d, err := ev.payload(e)
		if err != nil {
			return false, v, "", err
		}
		return true, v, "", ev.load(e.DestRegister, d)
	case *expr.Cmp:
		d, err := ev.read(e.Register, len(e.Data))
		if err != nil {
			return false, v, "", err
		}
		return compare(e.Op, bytes.Compare(d, e.Data)), v, "", nil
	case *expr.Range:
		d, err := ev.read(e.Register, len(e.FromData))
		if err != nil {
			return false, v, "", err
		}
		in := bytes.Compare(d, e.FromData) >= 0 && bytes.Compare(d, e.ToData) <= 0
		return in == (e.Op == expr.CmpOpEq), v, "", nil
	case *expr.Bitwise:
		d, err := ev.read(e.SourceRegister, int(e.Len))
		if err != nil || len(e.Mask) < int(e.Len) || len(e.Xor) < int(e.Len) {
			return false, v, "", fmt.Errorf("bitwise expression: %v", err)
		}
		out := make([]byte, e.Len)
		for i := range out {
			out[i] = d[i]&e.Mask[i] ^ e.Xor[i]
		}
		return true, v, "", ev.load(e.DestRegister, out)
	case *expr.Lookup:
		return ev.lookup(t, e)
	case *expr.Ct:
		if e.SourceRegister {
			return true, v, "", nil
		}
		d, err := ct(e.Key)
		if err != nil {
			return false, v, "", err
		}
		return true, v, "", ev.load(e.Register, d)
	case *expr.Fib:
		d, err := ev.fib(e)
		if err != nil {
			return false, v, "", err
		}
		return true, v, "", ev.load(e.Register, d)
	case *expr.Immediate:
		return true, v, "", ev.load(e.Register, e.Data)
	case *expr.Verdict:
		return true, e.Kind, e.Chain, nil
	case *expr.Reject:
		return true, expr.VerdictDrop, "", nil
	case *expr.Counter, *expr.Log, *expr.Objref, *expr.Notrack, *expr.Limit, *expr.Quota, *expr.Connlimit, *expr.Dynset:
		return true, v, "", nil
	case *expr.Match:
		ok, err := ev.xtMatch(e)
		return ok, v, "", err
	case *expr.NAT:
		if ev.dnat == nil || e.Type != expr.NATTypeDestNAT {
			return false, v, "", fmt.Errorf("nat expression (type %d) is not evaluated here", e.Type)
		}
		to, err := ev.natTarget(e)
		if err != nil {
			return false, v, "", err
		}
		*ev.dnat = to
		return true, expr.VerdictAccept, "", nil
	case *expr.Target:
		switch e.Name {
		case "REJECT":
			return true, expr.VerdictDrop, "", nil
		case "LOG", "NFLOG", "MARK", "CONNMARK":
			return true, v, "", nil
		case "DNAT":
			if ev.dnat != nil {
				to, err := xtDNAT(e)
				if err != nil {
					return false, v, "", err
				}
				*ev.dnat = to
				return true, expr.VerdictAccept, "", nil
			}
		}
		return false, v, "", fmt.Errorf("iptables target %s is not evaluated", e.Name)
	}
	return false, v, "", fmt.Errorf("expression %T is not evaluated", e)
}

func compare(op expr.CmpOp, c int) bool {
	switch op {
	case expr.CmpOpEq:
		return c == 0
	case expr.CmpOpNeq:
		return c != 0
	case expr.CmpOpLt:
		return c < 0
	case expr.CmpOpLte:
		return c <= 0
	case expr.CmpOpGt:
		return c > 0
	case expr.CmpOpGte:
		return c >= 0
	}
	return false
}

func (ev *evaluator) meta(k expr.MetaKey) ([]byte, error) {
	switch k {
	case expr.MetaKeyIIFNAME:
		b := make([]byte, 16)
		copy(b, ev.p.Iface)
		return b, nil
	case expr.MetaKeyIIF:
		return binary.NativeEndian.AppendUint32(nil, uint32(ev.p.Index)), nil
	case expr.MetaKeyOIFNAME:
		if ev.p.OutIface == "" {
			return nil, fmt.Errorf("a rule on the input path reads the output interface")
		}
		b := make([]byte, 16)
		copy(b, ev.p.OutIface)
		return b, nil
	case expr.MetaKeyOIF:
		if ev.p.OutIface == "" {
			return nil, fmt.Errorf("a rule on the input path reads the output interface")
		}
		return binary.NativeEndian.AppendUint32(nil, uint32(ev.p.OutIndex)), nil
	case expr.MetaKeyOIFTYPE:
		return binary.NativeEndian.AppendUint16(nil, unix.ARPHRD_ETHER), nil
	case expr.MetaKeyL4PROTO:
		return []byte{ev.p.Proto}, nil
	case expr.MetaKeyNFPROTO:
		return []byte{unix.NFPROTO_IPV4}, nil
	case expr.MetaKeyPROTOCOL:
		return []byte{0x08, 0x00}, nil
	case expr.MetaKeyPKTTYPE:
		if ev.p.DstType == unix.RTN_MULTICAST {
			return []byte{unix.PACKET_MULTICAST}, nil
		}
		return []byte{unix.PACKET_HOST}, nil
	case expr.MetaKeyIIFTYPE:
		return binary.NativeEndian.AppendUint16(nil, unix.ARPHRD_ETHER), nil
	case expr.MetaKeyMARK, expr.MetaKeySECMARK, expr.MetaKeyIIFGROUP:
		return make([]byte, 4), nil
	}
	return nil, fmt.Errorf("meta %d is not evaluated", k)
}

func (ev *evaluator) payload(e *expr.Payload) ([]byte, error) {
	var hdr []byte
	switch e.Base {
	case expr.PayloadBaseNetworkHeader:
		hdr = ev.pkt[:20]
		if e.Offset < 16 && e.Offset+e.Len > 12 {
			ev.readSource = true
		}
	case expr.PayloadBaseTransportHeader:
		hdr = ev.pkt[20:]
		if e.Offset < 2 && ev.p.Proto != unix.IPPROTO_IGMP {
			ev.readSource = true
		}
	default:
		return nil, fmt.Errorf("a rule reads the link-layer header")
	}
	if int(e.Offset+e.Len) > len(hdr) {
		return make([]byte, e.Len), nil // past this header: reads as zero
	}
	return hdr[e.Offset : e.Offset+e.Len], nil
}

// ct is the conntrack state of a new flow's first packet: state new, no status bits.
func ct(k expr.CtKey) ([]byte, error) {
	switch k {
	case expr.CtKeySTATE:
		return binary.NativeEndian.AppendUint32(nil, 1<<(2+1)), nil // NF_CT_STATE_BIT(IP_CT_NEW)
	case expr.CtKeySTATUS, expr.CtKeyMARK:
		return make([]byte, 4), nil
	case expr.CtKeyDIRECTION:
		return []byte{0}, nil
	}
	return nil, fmt.Errorf("ct key %d is not evaluated", k)
}

func (ev *evaluator) fib(e *expr.Fib) ([]byte, error) {
	switch {
	case e.ResultADDRTYPE && e.FlagDADDR:
		return binary.NativeEndian.AppendUint32(nil, uint32(ev.p.DstType)), nil
	case e.ResultADDRTYPE && e.FlagSADDR:
		ev.readSource = true
		return binary.NativeEndian.AppendUint32(nil, unix.RTN_UNICAST), nil
	case (e.ResultOIF || e.ResultOIFNAME) && e.FlagSADDR:
		// Reverse-path lookup (fib saddr . iif oif): the peer is reached by the interface
		// it came in on.
		ev.readSource = true
		if e.ResultOIFNAME {
			b := make([]byte, 16)
			copy(b, ev.p.Iface)
			return b, nil
		}
		return binary.NativeEndian.AppendUint32(nil, uint32(ev.p.Index)), nil
	}
	return nil, fmt.Errorf("this fib expression is not evaluated")
}

func (ev *evaluator) lookup(t *nftables.Table, e *expr.Lookup) (bool, expr.VerdictKind, string, error) {
	s, err := ev.rs.set(t, e.SetName)
	if err != nil {
		return false, verdictNone, "", err
	}
	off, err := reg(e.SourceRegister)
	if err != nil {
		return false, verdictNone, "", err
	}
	el, found := s.find(ev.regs[off:])
	if e.Invert {
		return !found, verdictNone, "", nil
	}
	if !found {
		return false, verdictNone, "", nil
	}
	if e.IsDestRegSet {
		if e.DestRegister == 0 {
			v, err := verdictOf(el)
			if err != nil {
				return false, verdictNone, "", fmt.Errorf("verdict map %s: %w", e.SetName, err)
			}
			return true, v.Kind, v.Chain, nil
		}
		return true, verdictNone, "", ev.load(e.DestRegister, el.Val)
	}
	return true, verdictNone, "", nil
}

// packetBytes lays out the IPv4 and transport headers payload expressions read.
func packetBytes(p Packet) []byte {
	b := make([]byte, 20+20)
	b[0] = 0x45
	b[8] = 1 // TTL: Tomcat's membership default
	b[9] = p.Proto
	src, dst := p.Src.As4(), p.Dst.As4()
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	t := b[20:]
	switch p.Proto {
	case unix.IPPROTO_UDP, unix.IPPROTO_TCP:
		binary.BigEndian.PutUint16(t[0:], p.Sport)
		binary.BigEndian.PutUint16(t[2:], p.Dport)
		if p.Proto == unix.IPPROTO_TCP {
			t[12] = 5 << 4
			t[13] = 0x02 // SYN
		}
	case unix.IPPROTO_IGMP:
		t[0] = 0x11 // membership query
	}
	return b
}

// DNAT runs a connection this host makes (p: no Iface, OutIface the route's device, "lo"
// for its own addresses) through the output hook's nat chains, and returns where a
// destination NAT sends it; ok is false where none does. Equivalent to reading `nft list
// ruleset` (iptables -t nat -S OUTPUT) for the port.
func (rs *Ruleset) DNAT(p Packet) (to netip.AddrPort, by string, ok bool, err error) {
	for _, c := range rs.Dstnat {
		if rs.skip[c.Table.Name] {
			continue
		}
		var at netip.AddrPort
		ev := &evaluator{rs: rs, p: p, pkt: packetBytes(p), dnat: &at}
		_, by, err := ev.chain(c, 0)
		if err != nil {
			return netip.AddrPort{}, "", false, err
		}
		if at.IsValid() {
			if at.Port() == 0 { // --to-destination ADDR: the port is kept
				at = netip.AddrPortFrom(at.Addr(), p.Dport)
			}
			return at, by, true, nil
		}
	}
	return netip.AddrPort{}, "", false, nil
}

// natTarget reads a DNAT statement's address and port from its registers (network order).
func (ev *evaluator) natTarget(e *expr.NAT) (netip.AddrPort, error) {
	if e.RegAddrMin == 0 {
		return netip.AddrPort{}, fmt.Errorf("a DNAT without an address")
	}
	a, err := ev.read(e.RegAddrMin, 4)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port := ev.p.Dport
	if e.RegProtoMin != 0 {
		b, err := ev.read(e.RegProtoMin, 2)
		if err != nil {
			return netip.AddrPort{}, err
		}
		port = binary.BigEndian.Uint16(b)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(a)), port), nil
}

// xtDNAT reads iptables' DNAT target (--to-destination ADDR[:PORT]) in its compat form.
func xtDNAT(t *expr.Target) (netip.AddrPort, error) {
	var ip net.IP
	var flags uint
	var port uint16
	switch info := t.Info.(type) {
	case *xt.NatIPv4MultiRangeCompat:
		if len(*info) == 0 {
			return netip.AddrPort{}, fmt.Errorf("iptables DNAT without a range")
		}
		ip, flags, port = (*info)[0].MinIP, (*info)[0].Flags, (*info)[0].MinPort
	case *xt.NatRange:
		ip, flags, port = info.MinIP, info.Flags, info.MinPort
	case *xt.NatRange2:
		ip, flags, port = info.MinIP, info.Flags, info.MinPort
	default:
		return netip.AddrPort{}, fmt.Errorf("iptables target DNAT (revision %d) is not evaluated", t.Rev)
	}
	a, ok := netip.AddrFromSlice(ip.To4())
	if !ok || xt.NatRangeFlags(flags)&xt.NatRangeMapIPs == 0 {
		return netip.AddrPort{}, fmt.Errorf("iptables DNAT without an IPv4 address")
	}
	if xt.NatRangeFlags(flags)&xt.NatRangeProtoSpecified == 0 {
		port = 0
	}
	return netip.AddrPortFrom(a, port), nil
}
