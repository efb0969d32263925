// Package ansible reads Ansible inventories, INI and YAML, as ansible-inventory does for the
// parts an operator's cluster inventory uses: hosts, groups, child groups, group and host
// variables with Ansible's precedence, and host ranges (was[1:3]). The file is kept as read,
// so Write round-trips it byte for byte.
//
// Equivalent: ansible-inventory -i FILE --list
package ansible

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/textfile"
)

// MaxSize caps the input: inventories of thousands of hosts are a few hundred kilobytes.
const MaxSize = 8 << 20

// Inventory is a parsed inventory: its hosts in the order they first appear, and its groups.
type Inventory struct {
	Hosts  []*Host
	Groups map[string]*Group
	text   textfile.Lines
}

// Host is one inventory host with its own variables (those on its line or under it).
type Host struct {
	Name string
	Vars map[string]string
	// Line is where the host first appears (1-based).
	Line int
}

// Group is one group: its hosts, child groups and variables.
type Group struct {
	Name     string
	Hosts    []string
	Children []string
	Vars     map[string]string
}

// Parse reads an inventory in either form: YAML when the first significant line is a
// mapping key ending in a colon or a document start, INI otherwise, as Ansible's
// plugins decide by trying.
func Parse(r io.Reader) (*Inventory, error) {
	text, err := textfile.Read(r, MaxSize, "inventory")
	if err != nil {
		return nil, err
	}
	inv := &Inventory{Groups: map[string]*Group{}, text: text}
	inv.group("all")
	inv.group("ungrouped")
	if looksYAML(text.Lines) {
		err = inv.parseYAML(strings.Join(text.Lines, "\n"))
	} else {
		err = inv.parseINI(text.Lines)
	}
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// Write writes the inventory back exactly as it was read.
func (inv *Inventory) Write(w io.Writer) error { return inv.text.Write(w) }

func looksYAML(lines []string) bool {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
			continue
		}
		return t == "---" || (!strings.HasPrefix(t, "[") && strings.HasSuffix(strings.SplitN(t, " #", 2)[0], ":"))
	}
	return false
}

func (inv *Inventory) group(name string) *Group {
	g, ok := inv.Groups[name]
	if !ok {
		g = &Group{Name: name, Vars: map[string]string{}}
		inv.Groups[name] = g
		if name != "all" {
			all := inv.Groups["all"]
			all.Children = append(all.Children, name)
		}
	}
	return g
}

func (inv *Inventory) host(name string, line int) *Host {
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h
		}
	}
	h := &Host{Name: name, Vars: map[string]string{}, Line: line}
	inv.Hosts = append(inv.Hosts, h)
	return h
}

func (inv *Inventory) addToGroup(g *Group, host string) {
	if !slices.Contains(g.Hosts, host) {
		g.Hosts = append(g.Hosts, host)
	}
}

// GroupsOf are the groups host belongs to, directly or through child groups, "all"
// included, sorted.
func (inv *Inventory) GroupsOf(host string) []string {
	var out []string
	for name := range inv.Groups {
		if inv.InGroup(host, name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// InGroup says whether host is in group, directly or through its child groups.
func (inv *Inventory) InGroup(host, group string) bool {
	if group == "all" {
		return slices.ContainsFunc(inv.Hosts, func(h *Host) bool { return h.Name == host })
	}
	return inv.inGroup(host, group, map[string]bool{})
}

func (inv *Inventory) inGroup(host, group string, seen map[string]bool) bool {
	g, ok := inv.Groups[group]
	if !ok || seen[group] {
		return false
	}
	seen[group] = true
	if slices.Contains(g.Hosts, host) {
		return true
	}
	for _, c := range g.Children {
		if inv.inGroup(host, c, seen) {
			return true
		}
	}
	return false
}

// Vars are host's effective variables as Ansible merges them: "all" first, then its
// groups from the shallowest to the deepest (by name among equals), then the host's own.
func (inv *Inventory) Vars(host string) map[string]string {
	depth := inv.depths()
	groups := inv.GroupsOf(host)
	sort.SliceStable(groups, func(i, j int) bool { return depth[groups[i]] < depth[groups[j]] })
	out := map[string]string{}
	for _, g := range groups {
		for k, v := range inv.Groups[g].Vars {
			out[k] = v
		}
	}
	for _, h := range inv.Hosts {
		if h.Name == host {
			for k, v := range h.Vars {
				out[k] = v
			}
		}
	}
	return out
}

// depths is each group's distance from "all" along the longest chain of children.
func (inv *Inventory) depths() map[string]int {
	d := map[string]int{}
	var walk func(name string, n int, path map[string]bool)
	walk = func(name string, n int, path map[string]bool) {
		if path[name] || d[name] > n {
			return
		}
		d[name] = max(d[name], n)
		path[name] = true
		if g := inv.Groups[name]; g != nil {
			for _, c := range g.Children {
				walk(c, n+1, path)
			}
		}
		delete(path, name)
	}
	walk("all", 0, map[string]bool{})
	return d
}

// Error is a line of the inventory Ansible would refuse.
type Error struct {
	Line    int
	Problem string
}

func (e *Error) Error() string { return fmt.Sprintf("inventory line %d: %s", e.Line, e.Problem) }
