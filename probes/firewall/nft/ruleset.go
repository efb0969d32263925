// Package nft decides whether the kernel's nftables rule set accepts one inbound packet,
// by reading the rules over netlink (google/nftables) and running them the way the
// kernel does: base chains on the prerouting and input hooks in priority order, jumps,
// gotos and returns, sets and verdict maps, and the chains' policies. It is the check
// behind firewall.ports on hosts without firewalld (hand-written nftables, iptables-nft,
// ufw). What it cannot run exactly it reports as unknown with the reason instead of
// guessing. Equivalent to reading `nft list ruleset` (and `iptables -S`) by hand.
package nft

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/google/nftables"
)

// Ruleset is the part of the kernel's rule set that sees inbound IPv4 packets, and the
// packets it forwards.
type Ruleset struct {
	// Base are the filter chains on the prerouting and input hooks, in the order the
	// kernel runs them (hook, then priority).
	Base []*nftables.Chain
	// Forward are the filter chains on the forward hook, by priority: a router's, and a
	// bridge's where br_netfilter passes bridged IPv4 to them (bridge-nf-call-iptables).
	Forward []*nftables.Chain
	// Dstnat are the nat chains on the output hook, by priority: where a connection this
	// host makes to one of its own ports is sent elsewhere (a container engine's
	// published ports).
	Dstnat []*nftables.Chain
	chains map[chainKey]*nftables.Chain
	rules  map[chainKey][]*nftables.Rule
	sets   map[chainKey]*set // by table and set name
	conn   *nftables.Conn
	skip   map[string]bool // tables Decide passes over (see Without)
}

// Without is the rule set without the tables of these names, of any family: what the
// kernel decides beside a guard whose own tables are judged from its configuration
// (firewalld's table "firewalld"). It shares rs's caches.
func (rs *Ruleset) Without(tables ...string) *Ruleset {
	out := *rs
	out.skip = map[string]bool{}
	for t := range rs.skip {
		out.skip[t] = true
	}
	for _, t := range tables {
		out.skip[t] = true
	}
	return &out
}

// Has reports whether a table of this name (any family) has a chain on the input path.
func (rs *Ruleset) Has(table string) bool {
	for _, c := range rs.Base {
		if c.Table.Name == table {
			return true
		}
	}
	return false
}

type chainKey struct {
	family nftables.TableFamily
	table  string
	name   string
}

func keyOf(c *nftables.Chain) chainKey {
	return chainKey{c.Table.Family, c.Table.Name, c.Name}
}

// ErrPermission is returned when the rule set cannot be read (it needs CAP_NET_ADMIN).
var ErrPermission = errors.New("reading the nftables rule set needs root (CAP_NET_ADMIN)")

// Load reads the chains of the current network namespace (nft list chains).
func Load() (*Ruleset, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	return load(c)
}

// LoadAt reads the chains of the network namespace nsFd opens (nft -n NS list chains,
// without entering it).
func LoadAt(nsFd int) (*Ruleset, error) {
	c, err := nftables.New(nftables.WithNetNSFd(nsFd))
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	return load(c)
}

func load(c *nftables.Conn) (*Ruleset, error) {
	chains, err := c.ListChains()
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, ErrPermission
		}
		return nil, fmt.Errorf("nftables: list chains: %w", err)
	}
	rs := &Ruleset{chains: map[chainKey]*nftables.Chain{}, rules: map[chainKey][]*nftables.Rule{}, sets: map[chainKey]*set{}, conn: c}
	for _, ch := range chains {
		rs.chains[keyOf(ch)] = ch
		switch {
		case inbound(ch):
			rs.Base = append(rs.Base, ch)
		case forward(ch):
			rs.Forward = append(rs.Forward, ch)
		case dstnat(ch):
			rs.Dstnat = append(rs.Dstnat, ch)
		}
	}
	for _, base := range [][]*nftables.Chain{rs.Base, rs.Forward, rs.Dstnat} {
		slices.SortStableFunc(base, func(a, b *nftables.Chain) int {
			if c := cmp.Compare(hookOrder(a), hookOrder(b)); c != 0 {
				return c
			}
			return cmp.Compare(*a.Priority, *b.Priority)
		})
	}
	return rs, nil
}

// dstnat: a nat base chain on the output hook of an ip or inet table.
func dstnat(c *nftables.Chain) bool {
	return c.Hooknum != nil && c.Priority != nil && c.Type == nftables.ChainTypeNAT && *c.Hooknum == *nftables.ChainHookOutput &&
		(c.Table.Family == nftables.TableFamilyIPv4 || c.Table.Family == nftables.TableFamilyINet)
}

// forward: a filter base chain on the forward hook of an ip or inet table.
func forward(c *nftables.Chain) bool {
	return c.Hooknum != nil && c.Priority != nil && c.Type == nftables.ChainTypeFilter && *c.Hooknum == *nftables.ChainHookForward &&
		(c.Table.Family == nftables.TableFamilyIPv4 || c.Table.Family == nftables.TableFamilyINet)
}

// inbound: a filter base chain that IPv4 packets to this host pass (ip and inet tables,
// prerouting and input hooks; netdev ingress chains are reported by Decide).
func inbound(c *nftables.Chain) bool {
	if c.Hooknum == nil || c.Priority == nil || c.Type != nftables.ChainTypeFilter {
		return false
	}
	switch c.Table.Family {
	case nftables.TableFamilyIPv4, nftables.TableFamilyINet:
		return *c.Hooknum == *nftables.ChainHookPrerouting || *c.Hooknum == *nftables.ChainHookInput
	case nftables.TableFamilyNetdev:
		return *c.Hooknum == *nftables.ChainHookIngress
	}
	return false
}

func hookOrder(c *nftables.Chain) int {
	switch {
	case c.Table.Family == nftables.TableFamilyNetdev:
		return 0
	case *c.Hooknum == *nftables.ChainHookPrerouting:
		return 1
	}
	return 2
}

func (rs *Ruleset) rulesOf(c *nftables.Chain) ([]*nftables.Rule, error) {
	k := keyOf(c)
	if r, ok := rs.rules[k]; ok {
		return r, nil
	}
	r, err := rs.conn.GetRules(c.Table, c)
	if err != nil {
		return nil, fmt.Errorf("nftables: rules of chain %s: %w", c.Name, err)
	}
	rs.rules[k] = r
	return r, nil
}
