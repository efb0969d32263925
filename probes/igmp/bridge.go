package igmp

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Bridge is a Linux bridge's multicast snooping state, as `ip -d link show BRIDGE` shows
// it (mcast_snooping, mcast_querier, mcast_*_interval) and its learned querier.
type Bridge struct {
	Name  string
	Index int
	// Snooping: the bridge forwards a group only to ports it has heard reports from.
	Snooping bool
	// Querier: the bridge sends queries itself (when no other querier is elected).
	Querier bool
	// The timers: how long a group lasts on a port after its last report (membership),
	// how long another querier counts as present after its last query (querier), and the
	// bridge's own querier's interval and response time.
	Membership, OtherQuerier, QueryInterval, QueryResponse time.Duration
	// Learned is the querier in charge as the bridge knows it (its own address when its
	// own querier is elected), LearnedPort the port it was heard on (0: the bridge itself),
	// OtherTimer how long the other querier still counts as present (0: none is).
	Learned     netip.Addr
	LearnedPort int
	OtherTimer  time.Duration
	// Ports are the indexes of the bridge's ports.
	Ports []int
}

// Gap is how long the group can go unforwarded when the querier the bridge learned goes
// silent: the bridge forgets the members one membership interval after their last
// report, and floods again only when its other-querier timer runs out. Zero: no gap.
func (b Bridge) Gap() time.Duration {
	if !b.Snooping || b.OtherQuerier <= b.Membership {
		return 0
	}
	return b.OtherQuerier - b.Membership
}

// OwnQuerierLate reports whether the bridge's own querier asks too seldom: a member's
// answer can come query interval + response time after its last one, and the membership
// must outlast that.
func (b Bridge) OwnQuerierLate() bool {
	return b.Snooping && b.Querier && b.QueryInterval+b.QueryResponse >= b.Membership
}

// Links is what one RTM_GETLINK dump says of the namespace's links: its bridges, each
// link's master, and the namespace (as this one numbers it) of each link whose other end
// is elsewhere, as a container's veth is.
type Links struct {
	Bridges []Bridge
	// Master maps a link's index to its bridge's.
	Master map[int]int
	// PeerNS maps a link's index to the namespace id of its peer (IFLA_LINK_NETNSID).
	PeerNS map[int]int
}

// ListLinks reads the links of the calling thread's network namespace, as `ip -d link`.
func ListLinks() (Links, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
	if err != nil {
		return Links{}, fmt.Errorf("igmp: list links: %w", err)
	}
	ls := Links{Master: map[int]int{}, PeerNS: map[int]int{}}
	for _, m := range msgs {
		l := parseLink(m)
		if l.master > 0 {
			ls.Master[l.Index] = l.master
		}
		if l.peerNS >= 0 {
			ls.PeerNS[l.Index] = l.peerNS
		}
		if l.bridge {
			ls.Bridges = append(ls.Bridges, l.Bridge)
		}
	}
	for i := range ls.Bridges {
		for port, master := range ls.Master {
			if master == ls.Bridges[i].Index {
				ls.Bridges[i].Ports = append(ls.Bridges[i].Ports, port)
			}
		}
	}
	return ls, nil
}

// link is one RTM_NEWLINK message, read.
type link struct {
	Bridge
	master, peerNS int
	bridge         bool
}

// parseLink reads one RTM_NEWLINK message: its index and name, its master, its peer's
// namespace, and when it is a bridge, its snooping state.
func parseLink(m []byte) link {
	l := link{peerNS: -1}
	if len(m) < unix.SizeofIfInfomsg {
		return l
	}
	l.Index = int(nl.DeserializeIfInfomsg(m).Index)
	attrs, err := nl.ParseRouteAttr(m[unix.SizeofIfInfomsg:])
	if err != nil {
		return l
	}
	var data []syscall.NetlinkRouteAttr
	for _, a := range attrs {
		switch a.Attr.Type {
		case unix.IFLA_IFNAME:
			l.Name = string(trimNul(a.Value))
		case unix.IFLA_MASTER:
			if len(a.Value) >= 4 {
				l.master = int(native.Uint32(a.Value))
			}
		case unix.IFLA_LINK_NETNSID:
			if len(a.Value) >= 4 {
				l.peerNS = int(int32(native.Uint32(a.Value)))
			}
		case unix.IFLA_LINKINFO:
			info, err := nl.ParseRouteAttr(a.Value)
			if err != nil {
				continue
			}
			for _, i := range info {
				switch i.Attr.Type {
				case unix.IFLA_INFO_KIND:
					l.bridge = string(trimNul(i.Value)) == "bridge"
				case unix.IFLA_INFO_DATA:
					data, _ = nl.ParseRouteAttr(i.Value)
				}
			}
		}
	}
	if l.bridge {
		l.readData(data)
	}
	return l
}

// native is the host's byte order, that of netlink's attributes.
var native = nl.NativeEndian()

// centis reads a bridge timer: the kernel gives clock_t, hundredths of a second.
func centis(v []byte) time.Duration {
	if len(v) < 8 {
		return 0
	}
	return time.Duration(native.Uint64(v)) * 10 * time.Millisecond
}

// nlaTypeMask strips NLA_F_NESTED and NLA_F_NET_BYTEORDER from an attribute's type.
const nlaTypeMask = ^uint16(unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)

// Attributes of IFLA_BR_MCAST_QUERIER_STATE (linux/if_bridge.h).
const (
	querierIPAddress    = 1
	querierIPPort       = 2
	querierIPOtherTimer = 3
)

func (b *Bridge) readData(data []syscall.NetlinkRouteAttr) {
	for _, d := range data {
		switch d.Attr.Type & nlaTypeMask { // the querier state comes with NLA_F_NESTED
		case unix.IFLA_BR_MCAST_SNOOPING:
			b.Snooping = len(d.Value) > 0 && d.Value[0] == 1
		case unix.IFLA_BR_MCAST_QUERIER:
			b.Querier = len(d.Value) > 0 && d.Value[0] == 1
		case unix.IFLA_BR_MCAST_MEMBERSHIP_INTVL:
			b.Membership = centis(d.Value)
		case unix.IFLA_BR_MCAST_QUERIER_INTVL:
			b.OtherQuerier = centis(d.Value)
		case unix.IFLA_BR_MCAST_QUERY_INTVL:
			b.QueryInterval = centis(d.Value)
		case unix.IFLA_BR_MCAST_QUERY_RESPONSE_INTVL:
			b.QueryResponse = centis(d.Value)
		case unix.IFLA_BR_MCAST_QUERIER_STATE:
			state, err := nl.ParseRouteAttr(d.Value)
			if err != nil {
				continue
			}
			for _, s := range state {
				switch s.Attr.Type & nlaTypeMask {
				case querierIPAddress:
					if len(s.Value) == 4 {
						b.Learned = netip.AddrFrom4([4]byte(s.Value))
					}
				case querierIPPort:
					if len(s.Value) >= 4 {
						b.LearnedPort = int(native.Uint32(s.Value))
					}
				case querierIPOtherTimer:
					b.OtherTimer = centis(s.Value)
				}
			}
		}
	}
}

func trimNul(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// Carrying is the bridge that carries iface's traffic: iface itself, or the bridge iface
// is a port of; why says which.
func (ls Links) Carrying(iface string) (b Bridge, why string, ok bool) {
	idx := -1
	if ifi, err := net.InterfaceByName(iface); err == nil {
		idx = ifi.Index
	}
	for _, b := range ls.Bridges {
		switch {
		case b.Name == iface:
			return b, "the cluster interface", true
		case ls.Master[idx] == b.Index:
			return b, iface + " is its port", true
		}
	}
	return Bridge{}, "", false
}
