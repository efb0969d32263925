// Package haproxy reads haproxy.cfg as HAProxy's configuration parser splits it: sections
// opened by a keyword at the start of their first line (global, defaults, frontend,
// backend, listen, peers, ...), each following line a keyword and its arguments, words
// split on blanks, '#' starting a comment outside quotes, "double" and 'single' quotes and
// backslash escapes. Every line keeps its number; Write gives the file back byte for byte.
package haproxy

import (
	"fmt"
	"io"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/textfile"
)

// MaxSize caps the input: a haproxy.cfg is rarely more than a few hundred kilobytes.
const MaxSize = 4 << 20

// sectionKeywords open a section (cfgparse.c's registered sections).
var sectionKeywords = map[string]bool{
	"global": true, "defaults": true, "frontend": true, "backend": true, "listen": true,
	"peers": true, "resolvers": true, "userlist": true, "mailers": true, "program": true,
	"http-errors": true, "ring": true, "cache": true, "log-forward": true, "fcgi-app": true,
	"crt-store": true, "traces": true,
}

// Line is one keyword line of a section: its words as HAProxy splits them.
type Line struct {
	// Words are the keyword and its arguments, quotes and escapes resolved.
	Words []string
	Line  int
}

// Is reports whether the line's keyword is kw ("server", "balance", "option"...).
func (l Line) Is(kw string) bool { return len(l.Words) > 0 && strings.EqualFold(l.Words[0], kw) }

// Args are the words after the keyword.
func (l Line) Args() []string {
	if len(l.Words) < 2 {
		return nil
	}
	return l.Words[1:]
}

// Section is one section: its kind (backend, listen, ...), its name ("" for an unnamed
// defaults or global) and its lines.
type Section struct {
	Kind, Name string
	// Header are the words after the kind and name (defaults NAME from OTHER).
	Header []string
	Line   int
	Lines  []Line
}

// All returns the section's lines with keyword kw, in order.
func (s *Section) All(kw string) []Line {
	var out []Line
	for _, l := range s.Lines {
		if l.Is(kw) {
			out = append(out, l)
		}
	}
	return out
}

// Last is the line with keyword kw that wins (the last one), if any.
func (s *Section) Last(kw string) (Line, bool) {
	all := s.All(kw)
	if len(all) == 0 {
		return Line{}, false
	}
	return all[len(all)-1], true
}

// File is a parsed haproxy.cfg.
type File struct {
	text     textfile.Lines
	Sections []*Section
}

// ParseError names the line HAProxy would refuse.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse reads a configuration. A keyword line before any section, or an unterminated
// quote, is an error naming the line, as haproxy -c refuses them.
func Parse(r io.Reader) (*File, error) {
	text, err := textfile.Read(r, MaxSize, "haproxy configuration")
	if err != nil {
		return nil, err
	}
	f := &File{text: text}
	var cur *Section
	for i, raw := range text.Lines {
		n := i + 1
		words, err := split(strings.TrimSuffix(raw, "\r"))
		if err != nil {
			return nil, &ParseError{Line: n, Msg: err.Error()}
		}
		if len(words) == 0 {
			continue
		}
		if kind := strings.ToLower(words[0]); sectionKeywords[kind] {
			cur = &Section{Kind: kind, Line: n}
			rest := words[1:]
			if len(rest) > 0 && kind != "global" {
				cur.Name, rest = rest[0], rest[1:]
			}
			cur.Header = rest
			f.Sections = append(f.Sections, cur)
			continue
		}
		if cur == nil {
			return nil, &ParseError{Line: n, Msg: fmt.Sprintf("unknown keyword %q out of section", words[0])}
		}
		cur.Lines = append(cur.Lines, Line{Words: words, Line: n})
	}
	return f, nil
}

// Write writes the configuration back as it was read.
func (f *File) Write(w io.Writer) error { return f.text.Write(w) }

// Of returns the sections of a kind, in order.
func (f *File) Of(kind string) []*Section {
	var out []*Section
	for _, s := range f.Sections {
		if s.Kind == kind {
			out = append(out, s)
		}
	}
	return out
}

// Section finds the proxy section (frontend, backend, listen) of a name; HAProxy refuses
// two proxies of one name with overlapping capabilities, so the first is the one.
func (f *File) Section(kinds []string, name string) *Section {
	for _, s := range f.Sections {
		for _, k := range kinds {
			if s.Kind == k && s.Name == name {
				return s
			}
		}
	}
	return nil
}

// DefaultsFor is the defaults section a proxy takes its settings from: the one it names
// with "from", else the last defaults section before it.
func (f *File) DefaultsFor(p *Section) *Section {
	if len(p.Header) == 2 && strings.EqualFold(p.Header[0], "from") {
		for _, s := range f.Sections {
			if s.Kind == "defaults" && s.Name == p.Header[1] {
				return s
			}
		}
	}
	var last *Section
	for _, s := range f.Sections {
		if s == p {
			break
		}
		if s.Kind == "defaults" {
			last = s
		}
	}
	return last
}

// split cuts a line into words as HAProxy's parse_line does: blanks separate, '#' ends
// the line outside quotes, "..." and '...' quote (a quoted empty word is a word), and a
// backslash escapes the next character (outside single quotes).
func split(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == '\'':
			w.WriteByte(c)
		case c == '\\' && i+1 < len(line):
			i++
			w.WriteByte(line[i])
			inWord = true
		case quote == '"':
			w.WriteByte(c)
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == '#':
			i = len(line)
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unmatched %c quote", quote)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
