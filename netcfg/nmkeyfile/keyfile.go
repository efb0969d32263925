// Package nmkeyfile reads and writes NetworkManager keyfile connection profiles
// (/etc/NetworkManager/system-connections/*.nmconnection), a GLib key file: [section]
// headers, key=value lines, '#' comments. Every byte not changed is written back as read.
// Routes live in [ipv4] as route1=DEST/PREFIX[,GATEWAY[,METRIC]], route2=..., equivalent
// to: nmcli connection modify ID +ipv4.routes "224.0.0.0/4".
package nmkeyfile

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/textfile"
)

// MaxSize caps the input; profiles are a few kilobytes.
const MaxSize = 1 << 20

// File is a parsed keyfile.
type File struct {
	text textfile.Lines
}

type entry struct {
	section, key, value string
	line                int
}

// Parse reads a keyfile. A key before any [section] or a line that is neither a comment,
// a section nor key=value is an error naming the line, as NetworkManager refuses it.
func Parse(r io.Reader) (*File, error) {
	text, err := textfile.Read(r, MaxSize, "keyfile")
	if err != nil {
		return nil, err
	}
	f := &File{text: text}
	if _, err := f.entries(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) entries() ([]entry, error) {
	var out []entry
	section := ""
	for i, raw := range f.text.Lines {
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				return nil, fmt.Errorf("line %d: bad section header %q", i+1, line)
			}
			section = line[1 : len(line)-1]
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("line %d: %q is not key=value", i+1, line)
			}
			if section == "" {
				return nil, fmt.Errorf("line %d: key %q before any [section]", i+1, strings.TrimSpace(k))
			}
			out = append(out, entry{section, strings.TrimSpace(k), strings.TrimSpace(v), i})
		}
	}
	return out, nil
}

// Get returns the value of key in section.
func (f *File) Get(section, key string) (string, bool) {
	es, _ := f.entries()
	val, found := "", false
	for _, e := range es {
		if e.section == section && e.key == key {
			val, found = e.value, true // the last one wins, as in GLib
		}
	}
	return val, found
}

// Route is one [ipv4] routeN entry.
type Route struct {
	N       int
	Dst     netip.Prefix
	Gateway netip.Addr
}

// Routes lists [ipv4] routeN entries in file order; malformed ones are an error.
func (f *File) Routes() ([]Route, error) {
	es, err := f.entries()
	if err != nil {
		return nil, err
	}
	var out []Route
	for _, e := range es {
		n, ok := routeIndex(e)
		if !ok {
			continue
		}
		parts := strings.Split(e.value, ",")
		dst, err := netip.ParsePrefix(strings.TrimSpace(parts[0]))
		if err != nil {
			if a, aerr := netip.ParseAddr(strings.TrimSpace(parts[0])); aerr == nil {
				dst, err = netip.PrefixFrom(a, 32), nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: route%d=%q: not a destination", e.line+1, n, e.value)
		}
		r := Route{N: n, Dst: dst}
		if len(parts) > 1 && strings.TrimSpace(parts[1]) != "" {
			if r.Gateway, err = netip.ParseAddr(strings.TrimSpace(parts[1])); err != nil {
				return nil, fmt.Errorf("line %d: route%d gateway %q", e.line+1, n, parts[1])
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func routeIndex(e entry) (int, bool) {
	if e.section != "ipv4" || !strings.HasPrefix(e.key, "route") {
		return 0, false
	}
	n, err := strconv.Atoi(e.key[len("route"):])
	return n, err == nil && n > 0
}

// ErrExists is returned by AddRoute when the profile already has the route.
var ErrExists = errors.New("route already in the profile")

// AddRoute adds routeN=dst with the next free N, right after the last routeN line of
// [ipv4] (or at the end of [ipv4], or in a new [ipv4] section at the end).
func (f *File) AddRoute(dst netip.Prefix) error {
	rs, err := f.Routes()
	if err != nil {
		return err
	}
	n := 1
	for _, r := range rs {
		if r.Dst.Masked() == dst.Masked() && !r.Gateway.IsValid() {
			return ErrExists
		}
		n = max(n, r.N+1)
	}
	line := fmt.Sprintf("route%d=%s", n, dst.Masked())
	es, _ := f.entries()
	at, inIPv4 := -1, false
	for _, e := range es {
		if e.section == "ipv4" {
			inIPv4 = true
			if _, ok := routeIndex(e); ok || at < 0 {
				at = e.line
			}
		}
	}
	if !inIPv4 {
		at = f.sectionEnd("ipv4")
	}
	if at < 0 { // no [ipv4] at all
		add := []string{"[ipv4]", line}
		if n := len(f.text.Lines); n > 0 && strings.TrimSpace(f.text.Lines[n-1]) != "" {
			add = append([]string{""}, add...)
		}
		f.text.Insert(len(f.text.Lines)-1, add...)
		return nil
	}
	if !f.isRouteLine(at) {
		at = f.lastKeyOfSection(at)
	}
	f.text.Insert(at, line)
	return nil
}

func (f *File) isRouteLine(i int) bool {
	k, _, _ := strings.Cut(strings.TrimSpace(f.text.Lines[i]), "=")
	_, ok := routeIndex(entry{section: "ipv4", key: strings.TrimSpace(k)})
	return ok
}

// sectionEnd is the line of an empty [name] header, or -1.
func (f *File) sectionEnd(name string) int {
	for i, l := range f.text.Lines {
		if strings.TrimSpace(l) == "["+name+"]" {
			return i
		}
	}
	return -1
}

// lastKeyOfSection returns the last key line of the section that line i is in.
func (f *File) lastKeyOfSection(i int) int {
	last := i
	for j := i + 1; j < len(f.text.Lines); j++ {
		t := strings.TrimSpace(f.text.Lines[j])
		if strings.HasPrefix(t, "[") {
			break
		}
		if t != "" && !strings.HasPrefix(t, "#") {
			last = j
		}
	}
	return last
}

// Write writes the file back: unchanged lines byte for byte.
func (f *File) Write(w io.Writer) error { return f.text.Write(w) }
