// Package hosts reads and writes hosts(5) files (/etc/hosts) the way glibc's "files"
// NSS module reads them, keeping every line, comment and blank as it was.
package hosts

import (
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/textfile"
)

// MaxSize caps the input; real hosts files are kilobytes, ad-block lists a few megabytes.
const MaxSize = 16 << 20

// File is a parsed hosts file. Lines keep their original text so Write round-trips.
type File struct {
	Lines []Line
	// NoFinalNewline records that the last line had no newline, so Write keeps it so.
	NoFinalNewline bool
}

// Line is one line of the file. Entry lines have a valid Addr and at least one name;
// everything else (blank, comment, malformed) has Addr invalid and is kept verbatim.
type Line struct {
	// Raw is the line as read, without its newline (a CR before it is kept).
	Raw string
	// Number is the 1-based line number.
	Number int
	// Addr is the address; invalid for non-entry lines.
	Addr netip.Addr
	// Names are the canonical name then aliases.
	Names []string
	// Problem says why a non-blank, non-comment line is not an entry (glibc skips it).
	Problem string
}

// IsEntry reports whether the line maps names to an address.
func (l Line) IsEntry() bool { return l.Addr.IsValid() && len(l.Names) > 0 }

// Parse reads a hosts file. It fails only on I/O errors and oversized input: malformed
// lines are kept with Problem set, as glibc ignores them rather than failing.
func Parse(r io.Reader) (*File, error) {
	text, err := textfile.Read(r, MaxSize, "hosts file")
	if err != nil {
		return nil, err
	}
	f := &File{NoFinalNewline: text.NoFinalNewline, Lines: make([]Line, len(text.Lines))}
	for i, raw := range text.Lines {
		f.Lines[i] = parseLine(raw, i+1)
	}
	return f, nil
}

func parseLine(raw string, n int) Line {
	l := Line{Raw: raw, Number: n}
	text, _, _ := strings.Cut(raw, "#")
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return l
	}
	addr, err := netip.ParseAddr(fields[0])
	switch {
	case err != nil:
		l.Problem = fmt.Sprintf("%q is not an IP address", fields[0])
	case addr.Zone() != "" && !addr.Is6():
		l.Problem = "zone on an IPv4 address"
	case len(fields) == 1:
		l.Problem = "address without a name"
	default:
		l.Addr, l.Names = addr.Unmap(), fields[1:]
	}
	return l
}

// Write writes the file back, byte for byte as read except for lines changed by the caller.
func (f *File) Write(w io.Writer) error {
	text := textfile.Lines{Lines: make([]string, len(f.Lines)), NoFinalNewline: f.NoFinalNewline}
	for i, l := range f.Lines {
		text.Lines[i] = l.Raw
	}
	return text.Write(w)
}

// Lookup returns the addresses of name in file order, each once, matching names
// case-insensitively as glibc does.
func (f *File) Lookup(name string) []netip.Addr {
	var out []netip.Addr
	for _, l := range f.Entries(name) {
		if !containsAddr(out, l.Addr) {
			out = append(out, l.Addr)
		}
	}
	return out
}

// Entries returns the entry lines that carry name.
func (f *File) Entries(name string) []Line {
	var out []Line
	for _, l := range f.Lines {
		if !l.IsEntry() {
			continue
		}
		for _, n := range l.Names {
			if strings.EqualFold(n, name) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// Names returns the names given to addr, in file order.
func (f *File) Names(addr netip.Addr) []string {
	var out []string
	for _, l := range f.Lines {
		if l.IsEntry() && l.Addr == addr.Unmap() {
			out = append(out, l.Names...)
		}
	}
	return out
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, v := range list {
		if v == a {
			return true
		}
	}
	return false
}
