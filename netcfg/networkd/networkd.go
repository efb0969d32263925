// Package networkd reads systemd-networkd .network files and writes the drop-in that adds
// a route to one (NAME.network.d/*.conf). Files are INI-like: [Section] headers that may
// repeat ([Route] once per route), Key=Value lines, '#' and ';' comments, a trailing
// backslash continuing a line. Every byte not changed is written back as read.
//
// The drop-in is the equivalent of: ip route replace DEST dev IFACE scope link, at every
// start of systemd-networkd.
package networkd

import (
	"fmt"
	"io"
	"net/netip"
	"path"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/textfile"
)

// MaxSize caps the input; .network files are a few kilobytes.
const MaxSize = 1 << 20

// File is a parsed .network file or drop-in.
type File struct {
	text    textfile.Lines
	entries []entry
}

type entry struct {
	section int // index of the section header among all headers, to tell repeated ones apart
	name    string
	key     string
	value   string
}

// Parse reads a .network file. A key before any section, or a line that is neither a
// comment, a header nor Key=Value, is an error naming the line, as networkd warns and
// ignores it: better to stop than to edit a file whose meaning is unclear.
func Parse(r io.Reader) (*File, error) {
	text, err := textfile.Read(r, MaxSize, ".network file")
	if err != nil {
		return nil, err
	}
	f := &File{text: text}
	section, name := -1, ""
	for i := 0; i < len(text.Lines); i++ {
		line := strings.TrimSpace(strings.TrimSuffix(text.Lines[i], "\r"))
		first := i
		for strings.HasSuffix(line, `\`) && i+1 < len(text.Lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(strings.TrimSuffix(text.Lines[i], "\r"))
		}
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				return nil, fmt.Errorf("line %d: bad section header %q", first+1, line)
			}
			section, name = section+1, line[1:len(line)-1]
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("line %d: %q is not Key=Value", first+1, line)
			}
			if section < 0 {
				return nil, fmt.Errorf("line %d: key %q before any [section]", first+1, strings.TrimSpace(k))
			}
			f.entries = append(f.entries, entry{section, name, strings.TrimSpace(k), strings.TrimSpace(v)})
		}
	}
	return f, nil
}

// Write writes the file back, byte for byte.
func (f *File) Write(w io.Writer) error { return f.text.Write(w) }

// Match is what the [Match] section says about interface names.
type Match struct {
	// Names are the Name= globs; Negated when the list starts with '!'.
	Names   []string
	Negated bool
	// Other lists the [Match] keys other than Name= (MACAddress=, Type=, ...), which this
	// package does not evaluate.
	Other []string
}

// Match returns the [Match] conditions. An empty Match matches every interface.
func (f *File) Match() Match {
	var m Match
	for _, e := range f.entries {
		if e.name != "Match" {
			continue
		}
		if e.key != "Name" {
			m.Other = append(m.Other, e.key)
			continue
		}
		if e.value == "" { // an empty assignment resets the list
			m.Names, m.Negated = nil, false
			continue
		}
		v := e.value
		if strings.HasPrefix(v, "!") {
			m.Negated, v = true, strings.TrimPrefix(v, "!")
		}
		m.Names = append(m.Names, strings.Fields(v)...)
	}
	return m
}

// MatchesName reports whether the Name= globs select iface (true when there are none).
func (m Match) MatchesName(iface string) bool {
	if len(m.Names) == 0 {
		return true
	}
	hit := false
	for _, g := range m.Names {
		if ok, err := path.Match(g, iface); err == nil && ok {
			hit = true
			break
		}
	}
	return hit != m.Negated
}

// Route is one [Route] section.
type Route struct {
	Destination string
	Gateway     string
	Scope       string
}

// Routes lists the [Route] sections in file order.
func (f *File) Routes() []Route {
	var out []Route
	last := -1
	for _, e := range f.entries {
		if e.name != "Route" {
			continue
		}
		if e.section != last {
			out, last = append(out, Route{}), e.section
		}
		r := &out[len(out)-1]
		switch e.key {
		case "Destination":
			r.Destination = e.value
		case "Gateway":
			r.Gateway = e.value
		case "Scope":
			r.Scope = e.value
		}
	}
	return out
}

// HasRoute reports whether a [Route] section routes dst without a gateway.
func (f *File) HasRoute(dst netip.Prefix) bool {
	for _, r := range f.Routes() {
		p, err := netip.ParsePrefix(r.Destination)
		if err == nil && p.Masked() == dst.Masked() && (r.Gateway == "" || r.Gateway == "0.0.0.0") {
			return true
		}
	}
	return false
}

// DropInName is the file name of the drop-in clusterdoctor writes into NAME.network.d/.
const DropInName = "90-clusterdoctor-multicast.conf"

// DropIn returns the drop-in that routes dst out of the interface the .network file
// matches, on link scope (no gateway: multicast is delivered on the wire itself).
func DropIn(dst netip.Prefix) []byte {
	return fmt.Appendf(nil, `# Added by "clusterdoctor fix route --persist": multicast for the Tomcat cluster
# leaves by this interface, not by the one with the default route.
[Route]
Destination=%s
Scope=link
`, dst.Masked())
}

// Values returns every value of key in the sections named section, in file order.
func (f *File) Values(section, key string) []string {
	var out []string
	for _, e := range f.entries {
		if e.name == section && e.key == key {
			out = append(out, e.value)
		}
	}
	return out
}
