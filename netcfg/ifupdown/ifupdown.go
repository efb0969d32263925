// Package ifupdown reads and edits Debian's /etc/network/interfaces (interfaces(5)):
// stanzas that start with iface, mapping, auto, allow-*, source, source-directory,
// no-auto-down, no-scripts or rename; the indented option lines of an iface stanza that
// follow it; '#' comments; a trailing backslash continuing a line. Every byte not changed
// is written back as read.
//
// The route is added as an option of the interface's inet stanza:
//
//	up ip route replace 224.0.0.0/4 dev IFACE scope link
//
// which ifup runs each time it brings the interface up.
package ifupdown

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/textfile"
)

// MaxSize caps the input.
const MaxSize = 1 << 20

// File is a parsed interfaces file.
type File struct {
	text    textfile.Lines
	stanzas []stanza
	sources []Source
}

// Source is a source or source-directory line: other files read in its place.
type Source struct {
	Directory bool   // source-directory
	Pattern   string // a path or glob, relative to /etc/network when not absolute
}

type stanza struct {
	iface, family, method string
	first, last           int // line span of the iface line and its options
	options               []option
}

type option struct {
	key, value string
	line       int // the last physical line of the option
}

// keywords start a new stanza and so end an iface stanza's options.
var keywords = map[string]bool{"iface": true, "mapping": true, "auto": true, "source": true,
	"source-directory": true, "no-auto-down": true, "no-scripts": true, "rename": true}

// Parse reads an interfaces file. An iface line without family and method is an error
// naming the line, as ifup refuses it.
func Parse(r io.Reader) (*File, error) {
	text, err := textfile.Read(r, MaxSize, "interfaces file")
	if err != nil {
		return nil, err
	}
	f := &File{text: text}
	var cur *stanza
	for i := 0; i < len(text.Lines); i++ {
		first := i
		line := strings.TrimSpace(strings.TrimSuffix(text.Lines[i], "\r"))
		for strings.HasSuffix(line, `\`) && i+1 < len(text.Lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(strings.TrimSuffix(text.Lines[i], "\r"))
		}
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		kw := fields[0]
		if keywords[kw] || strings.HasPrefix(kw, "allow-") {
			cur = nil
			switch kw {
			case "iface":
				if len(fields) < 4 {
					return nil, fmt.Errorf("line %d: %q: want iface NAME FAMILY METHOD", first+1, line)
				}
				f.stanzas = append(f.stanzas, stanza{iface: fields[1], family: fields[2], method: fields[3], first: first, last: i})
				cur = &f.stanzas[len(f.stanzas)-1]
			case "source", "source-directory":
				if len(fields) < 2 {
					return nil, fmt.Errorf("line %d: %s without a path", first+1, kw)
				}
				f.sources = append(f.sources, Source{Directory: kw == "source-directory", Pattern: fields[1]})
			}
			continue
		}
		if cur == nil {
			continue // options of a mapping stanza (script, map), or stray: ifup ignores them too
		}
		cur.options = append(cur.options, option{key: kw, value: strings.TrimSpace(strings.TrimPrefix(line, kw)), line: i})
		cur.last = i
	}
	return f, nil
}

// Write writes the file back, byte for byte except what was added.
func (f *File) Write(w io.Writer) error { return f.text.Write(w) }

// Sources lists the source and source-directory lines, in order.
func (f *File) Sources() []Source { return append([]Source(nil), f.sources...) }

// Has reports whether the file has an "iface IFACE inet ..." stanza.
func (f *File) Has(iface string) bool { return f.inet(iface) != nil }

func (f *File) inet(iface string) *stanza {
	for i := range f.stanzas {
		if s := &f.stanzas[i]; s.iface == iface && s.family == "inet" {
			return s
		}
	}
	return nil
}

// hookKeys are the options whose commands ifup runs once the interface is up.
var hookKeys = map[string]bool{"up": true, "post-up": true}

// HasRoute reports whether the inet stanza of iface adds a route to dst in an up or
// post-up command (ip route add/replace, or route add -net).
func (f *File) HasRoute(iface string, dst netip.Prefix) bool {
	s := f.inet(iface)
	if s == nil {
		return false
	}
	for _, o := range s.options {
		if hookKeys[o.key] && mentions(o.value, dst) && strings.Contains(o.value, "route") {
			return true
		}
	}
	return false
}

// mentions reports whether a command names dst as a prefix, or as the old
// "-net 224.0.0.0 netmask 240.0.0.0" pair.
func mentions(cmd string, dst netip.Prefix) bool {
	dst = dst.Masked()
	fs := strings.Fields(cmd)
	for i, w := range fs {
		if p, err := netip.ParsePrefix(w); err == nil && p.Masked() == dst {
			return true
		}
		if a, err := netip.ParseAddr(w); err == nil && a == dst.Addr() && i+2 < len(fs) && fs[i+1] == "netmask" {
			if m, err := netip.ParseAddr(fs[i+2]); err == nil && maskBits(m) == dst.Bits() {
				return true
			}
		}
	}
	return false
}

func maskBits(m netip.Addr) int {
	b := m.As4()
	n := 0
	for _, x := range b {
		for ; x&0x80 != 0; x <<= 1 {
			n++
		}
	}
	return n
}

// ErrExists is returned by AddRoute when the stanza already adds the route.
var ErrExists = errors.New("route already in the interface's stanza")

// ErrNoStanza is returned by AddRoute when the file has no inet stanza for the interface.
var ErrNoStanza = errors.New("no iface ... inet stanza for the interface")

// RouteCommand is the up command for dst on iface.
func RouteCommand(iface string, dst netip.Prefix) string {
	return fmt.Sprintf("ip route replace %s dev %s scope link", dst.Masked(), iface)
}

// AddRoute adds "up ip route replace DST dev IFACE scope link" after the last option of
// the interface's inet stanza, indented like its options (four spaces when it has none).
func (f *File) AddRoute(iface string, dst netip.Prefix) error {
	s := f.inet(iface)
	if s == nil {
		return fmt.Errorf("%s: %w", iface, ErrNoStanza)
	}
	if f.HasRoute(iface, dst) {
		return ErrExists
	}
	indent := "    "
	if n := len(s.options); n > 0 {
		l := f.text.Lines[f.firstLine(s.options[n-1])]
		indent = l[:len(l)-len(strings.TrimLeft(l, " \t"))]
	}
	line := indent + "up " + RouteCommand(iface, dst)
	if strings.HasSuffix(f.text.Lines[s.last], "\r") {
		line += "\r"
	}
	f.text.Insert(s.last, line)
	var b strings.Builder
	f.text.Write(&b)
	again, err := Parse(strings.NewReader(b.String()))
	if err != nil {
		return fmt.Errorf("re-reading the edited file: %w", err) // cannot happen: one option line added
	}
	*f = *again
	return nil
}

// firstLine is the first physical line of an option that may span continued lines.
func (f *File) firstLine(o option) int {
	i := o.line
	for i > 0 && strings.HasSuffix(strings.TrimSpace(strings.TrimSuffix(f.text.Lines[i-1], "\r")), `\`) {
		i--
	}
	return i
}
