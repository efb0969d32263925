// Package nginx reads nginx configuration files as nginx tokenizes them: directives ended
// by ';', blocks in braces, quoted strings with escapes, '#' comments (outside quotes)
// anywhere, every directive with its line and its enclosing blocks. include is left to the
// caller, which knows the filesystem and the prefix.
package nginx

import (
	"fmt"
	"io"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/textfile"
)

// MaxSize caps one file.
const MaxSize = 4 << 20

// maxDepth bounds block nesting (nginx's own configurations nest a few levels).
const maxDepth = 64

// Directive is one directive: name, arguments unquoted, the line it starts on, and its
// children when it opens a block ("upstream backend { ... }").
type Directive struct {
	Name     string
	Args     []string
	Line     int
	Block    bool
	Children []Directive
}

// File is one parsed file.
type File struct {
	text       textfile.Lines
	Directives []Directive
}

// Parse reads one file. An unbalanced brace, a directive without ';' or an unterminated
// quote is an error naming the line, as nginx -t reports it.
func Parse(r io.Reader) (*File, error) {
	text, err := textfile.Read(r, MaxSize, "nginx configuration")
	if err != nil {
		return nil, err
	}
	toks, err := tokenize(strings.Join(text.Lines, "\n"))
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	ds, err := p.block(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("line %d: unexpected \"}\"", p.toks[p.i].line)
	}
	return &File{text: text, Directives: ds}, nil
}

// Write writes the file back as it was read.
func (f *File) Write(w io.Writer) error { return f.text.Write(w) }

type token struct {
	text   string
	line   int
	quoted bool
}

func tokenize(s string) ([]token, error) {
	var toks []token
	line := 1
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '{' || c == '}' || c == ';':
			toks = append(toks, token{text: string(c), line: line})
			i++
		case c == '"' || c == '\'':
			start := line
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				if s[j] == '\n' {
					line++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("line %d: unterminated quote", start)
			}
			toks = append(toks, token{text: b.String(), line: start, quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n{};", rune(s[j])) {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				j++
			}
			toks = append(toks, token{text: s[i:j], line: line})
			i = j
		}
	}
	return toks, nil
}

type parser struct {
	toks []token
	i    int
}

// block reads directives until a "}" (left for the caller) or the end.
func (p *parser) block(depth int) ([]Directive, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("blocks nested deeper than %d", maxDepth)
	}
	var out []Directive
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		if !t.quoted && t.text == "}" {
			return out, nil
		}
		if !t.quoted && (t.text == "{" || t.text == ";") {
			return nil, fmt.Errorf("line %d: unexpected %q", t.line, t.text)
		}
		d := Directive{Name: t.text, Line: t.line}
		p.i++
		for {
			if p.i >= len(p.toks) {
				return nil, fmt.Errorf("line %d: directive %q has no ending \";\"", d.Line, d.Name)
			}
			a := p.toks[p.i]
			p.i++
			if !a.quoted && a.text == ";" {
				break
			}
			if !a.quoted && a.text == "}" {
				return nil, fmt.Errorf("line %d: directive %q has no ending \";\"", d.Line, d.Name)
			}
			if !a.quoted && a.text == "{" {
				d.Block = true
				kids, err := p.block(depth + 1)
				if err != nil {
					return nil, err
				}
				if p.i >= len(p.toks) {
					return nil, fmt.Errorf("line %d: \"%s\" block is never closed", d.Line, d.Name)
				}
				p.i++ // the "}"
				d.Children = kids
				break
			}
			d.Args = append(d.Args, a.text)
		}
		out = append(out, d)
	}
	return out, nil
}

// Walk calls fn for every directive, depth first, with the names of the blocks around it.
func Walk(ds []Directive, fn func(d Directive, parents []string)) {
	var walk func([]Directive, []string)
	walk = func(ds []Directive, parents []string) {
		for _, d := range ds {
			fn(d, parents)
			if d.Block {
				walk(d.Children, append(parents, d.Name))
			}
		}
	}
	walk(ds, nil)
}
