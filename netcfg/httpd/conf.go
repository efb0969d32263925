// Package httpd reads Apache httpd configuration files: directives with their arguments
// (quoted or not), line continuations, and the file and line of each, as httpd reads
// them. Sections (<VirtualHost>, <IfModule>) are kept as the directive's context; Include
// is left to the caller, which knows the filesystem and ServerRoot.
package httpd

import (
	"fmt"
	"io"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/textfile"
)

// MaxSize caps one file.
const MaxSize = 4 << 20

// Directive is one directive: its name as written, its arguments unquoted, the line it
// starts on (1-based) and the sections around it ("IfModule mod_jk.c", "VirtualHost *:80").
type Directive struct {
	Name    string
	Args    []string
	Line    int
	Context []string
}

// Is compares the name as httpd does, without case.
func (d Directive) Is(name string) bool { return strings.EqualFold(d.Name, name) }

// Section is a section's opening line (<VirtualHost *:80>) and closing line: which
// directives it holds is what a <VirtualHost> means to httpd.
type Section struct {
	Name string
	Args []string
	// Line opens it, End closes it (1-based); the directives between are inside.
	Line, End int
	// Context are the sections around it.
	Context []string
}

// Holds reports whether the directive is inside the section (of the same file).
func (s Section) Holds(d Directive) bool { return s.Line < d.Line && d.Line < s.End }

// File is one parsed configuration file.
type File struct {
	text       textfile.Lines
	Directives []Directive
	// Sections are the sections in the order they open.
	Sections []Section
}

// Parse reads one configuration file. An unterminated quote or an unbalanced section is
// an error naming the line, as httpd -t reports it.
func Parse(r io.Reader) (*File, error) {
	text, err := textfile.Read(r, MaxSize, "httpd configuration")
	if err != nil {
		return nil, err
	}
	f := &File{text: text}
	var stack []string
	var open []int // indexes into f.Sections, as stack
	for i := 0; i < len(text.Lines); i++ {
		start := i
		line := strings.TrimSuffix(text.Lines[i], "\r")
		for strings.HasSuffix(line, "\\") && i+1 < len(text.Lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + strings.TrimSuffix(text.Lines[i], "\r")
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "</") {
			name := strings.TrimSuffix(strings.TrimPrefix(line, "</"), ">")
			if len(stack) == 0 || !strings.EqualFold(strings.Fields(stack[len(stack)-1])[0], strings.TrimSpace(name)) {
				return nil, fmt.Errorf("line %d: %s closes no open section", start+1, line)
			}
			stack = stack[:len(stack)-1]
			f.Sections[open[len(open)-1]].End = start + 1
			open = open[:len(open)-1]
			continue
		}
		if strings.HasPrefix(line, "<") {
			inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "<"), ">"))
			if inner == "" {
				return nil, fmt.Errorf("line %d: an empty section", start+1)
			}
			words, err := split(inner)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", start+1, err)
			}
			open = append(open, len(f.Sections))
			f.Sections = append(f.Sections, Section{Name: words[0], Args: words[1:], Line: start + 1, Context: append([]string(nil), stack...)})
			stack = append(stack, inner)
			continue
		}
		words, err := split(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start+1, err)
		}
		if words[0] == "" {
			return nil, fmt.Errorf("line %d: a directive without a name", start+1)
		}
		f.Directives = append(f.Directives, Directive{Name: words[0], Args: words[1:], Line: start + 1, Context: append([]string(nil), stack...)})
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("<%s> is never closed", stack[len(stack)-1])
	}
	return f, nil
}

// Write writes the file back as it was read.
func (f *File) Write(w io.Writer) error { return f.text.Write(w) }

// split cuts a directive line into words; double or single quotes group, a backslash
// escapes the next character inside them.
func split(s string) ([]string, error) {
	var words []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if q := s[0]; q == '"' || q == '\'' {
			var b strings.Builder
			j := 1
			for ; j < len(s) && s[j] != q; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated quote in %q", s)
			}
			words = append(words, b.String())
			s = s[j+1:]
			continue
		}
		j := strings.IndexAny(s, " \t")
		if j < 0 {
			j = len(s)
		}
		// No comments after arguments: httpd passes "#" and what follows as arguments
		// (a JkMount written so fails at startup: it takes one or two).
		words = append(words, s[:j])
		s = s[j:]
	}
	return words, nil
}
