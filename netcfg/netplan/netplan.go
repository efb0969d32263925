// Package netplan reads netplan YAML (/etc/netplan/*.yaml) far enough to find the
// definition of an interface and its routes, and writes the drop-in that adds a route to
// it. The user's files are never rewritten: netplan merges every file in lexical order, so a
// later file of ours adds the route beside theirs, comments and all left alone.
//
// The drop-in is the equivalent of: ip route replace DEST dev IFACE scope link, at boot.
package netplan

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"path"
	"sort"

	"gopkg.in/yaml.v3"
)

// MaxSize caps the input; netplan files are a few kilobytes.
const MaxSize = 1 << 20

// Types are the netplan device types whose definitions can carry routes.
var Types = []string{"ethernets", "bonds", "bridges", "vlans", "wifis", "tunnels", "vrfs", "dummy-devices", "virtual-ethernets"}

// File is a parsed netplan file.
type File struct {
	Renderer string
	defs     map[string]map[string]device // type -> id -> definition
}

type device struct {
	Match struct {
		Name       string `yaml:"name"`
		MACAddress string `yaml:"macaddress"`
	} `yaml:"match"`
	SetName  string  `yaml:"set-name"`
	Renderer string  `yaml:"renderer"`
	Routes   []Route `yaml:"routes"`
}

// Route is one entry of a definition's routes.
type Route struct {
	To    string `yaml:"to"`
	Via   string `yaml:"via,omitempty"`
	Scope string `yaml:"scope,omitempty"`
}

// Parse reads one netplan file. Malformed YAML, or a "network" that is not a mapping, is an
// error: netplan would refuse the whole configuration.
func Parse(r io.Reader) (*File, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read netplan file: %w", err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("netplan file larger than %d bytes", MaxSize)
	}
	var doc struct {
		Network map[string]yaml.Node `yaml:"network"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("netplan yaml: %w", err)
	}
	f := &File{defs: map[string]map[string]device{}}
	for key, node := range doc.Network {
		switch {
		case key == "renderer":
			if err := node.Decode(&f.Renderer); err != nil {
				return nil, fmt.Errorf("netplan yaml: network.renderer: %w", err)
			}
		case isType(key):
			var defs map[string]device
			if err := node.Decode(&defs); err != nil {
				return nil, fmt.Errorf("netplan yaml: network.%s: %w", key, err)
			}
			f.defs[key] = defs
		}
	}
	return f, nil
}

func isType(key string) bool {
	for _, t := range Types {
		if t == key {
			return true
		}
	}
	return false
}

// Definition names one device definition: its type ("ethernets") and id (its key).
type Definition struct {
	Type, ID string
	// Renderer is the definition's own renderer, if it sets one.
	Renderer string
}

// Find returns the definition that configures iface: by its id, by set-name, or by a
// match.name glob. MAC-only matches are not evaluated (ok is false for them).
func (f *File) Find(iface string) (Definition, bool) {
	for _, typ := range Types {
		ids := make([]string, 0, len(f.defs[typ]))
		for id := range f.defs[typ] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			d := f.defs[typ][id]
			hit := d.SetName == iface
			if d.Match.Name != "" {
				m, err := path.Match(d.Match.Name, iface)
				hit = hit || (err == nil && m)
			} else if d.Match.MACAddress == "" {
				hit = hit || id == iface
			}
			if hit {
				return Definition{Type: typ, ID: id, Renderer: d.Renderer}, true
			}
		}
	}
	return Definition{}, false
}

// Routes returns the routes this file gives the definition.
func (f *File) Routes(d Definition) []Route {
	return f.defs[d.Type][d.ID].Routes
}

// HasRoute reports whether this file routes dst via the definition without a gateway.
func (f *File) HasRoute(d Definition, dst netip.Prefix) bool {
	for _, r := range f.Routes(d) {
		p, err := netip.ParsePrefix(r.To)
		if err == nil && p.Masked() == dst.Masked() && r.Via == "" {
			return true
		}
	}
	return false
}

// DropInName is the file clusterdoctor writes for iface, sorting after the usual
// 00-installer-config.yaml and 50-cloud-init.yaml so that it merges into them.
func DropInName(iface string) string { return "90-clusterdoctor-" + iface + ".yaml" }

// DropIn returns a netplan file that adds dst to the definition; netplan appends it to the
// definition's routes from the earlier files. The route is on link scope, but not when
// NetworkManager renders it: netplan refuses a route scope there ("NetworkManager only
// supports global scoped routes"), and NetworkManager puts a route without a gateway on
// link scope by itself.
func DropIn(d Definition, dst netip.Prefix, renderer string) []byte {
	var b bytes.Buffer
	b.WriteString("# Added by \"clusterdoctor fix route --persist\": multicast for the Tomcat cluster\n")
	b.WriteString("# leaves by this interface, not by the one with the default route.\n")
	type routes struct {
		Routes []Route `yaml:"routes"`
	}
	var doc struct {
		Network struct {
			Version int                          `yaml:"version"`
			Defs    map[string]map[string]routes `yaml:",inline"`
		} `yaml:"network"`
	}
	doc.Network.Version = 2
	r := Route{To: dst.Masked().String(), Scope: "link"}
	if renderer == "NetworkManager" {
		r.Scope = ""
	}
	doc.Network.Defs = map[string]map[string]routes{d.Type: {d.ID: {[]Route{r}}}}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		panic(fmt.Sprintf("netplan: encoding a fixed document: %v", err)) // cannot happen
	}
	return b.Bytes()
}
