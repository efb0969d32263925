// Package tomcat reads Tomcat's own configuration files the way Tomcat reads them:
// server.xml and context.xml (with XML entities, external entity includes and, applied
// separately, Tomcat's ${name} property replacement), web.xml and web-fragment.xml,
// catalina.properties and logging.properties (java.util.Properties syntax), and the -D
// options of bin/setenv.sh. Every element keeps the file and line it came from, so a
// finding can point at it.
//
// The package only reads: clusterdoctor never rewrites a Tomcat file.
package tomcat

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// MaxSize bounds one XML file; a real server.xml is a few kilobytes, a large web.xml a
// few hundred.
const MaxSize = 4 << 20

// Limits on what one document may make us build, whatever arrives.
const (
	maxDepth    = 64
	maxElements = 100000
	maxIncludes = 8 // nesting of external entities
)

// Element is one XML element as written, before Tomcat's ${...} replacement.
type Element struct {
	// Name is the local name ("Cluster"); namespaces are ignored as Tomcat's digester
	// rules for server.xml ignore them.
	Name     string
	Attrs    []Attr
	Children []*Element
	// Text is the character data directly inside the element, trimmed.
	Text string
	// File and Line are where the element's start tag begins.
	File string
	Line int
}

// Attr is one attribute, its value with XML entities decoded.
type Attr struct {
	Name, Value string
	// Raw is the value as written when ${...} replacement changed it (see Resolve).
	Raw string
}

// Get returns the value of the named attribute.
func (e *Element) Get(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// Value returns the named attribute's value, "" when it is absent.
func (e *Element) Value(name string) string {
	v, _ := e.Get(name)
	return v
}

// Child returns the first child element with the name, or nil.
func (e *Element) Child(name string) *Element {
	for _, c := range e.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// All returns the child elements with the name, in document order.
func (e *Element) All(name string) []*Element {
	var out []*Element
	for _, c := range e.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// Pos is "file:line", the form every finding uses.
func (e *Element) Pos() string { return fmt.Sprintf("%s:%d", e.File, e.Line) }

// ParseError is a document Tomcat's parser would refuse, with where.
type ParseError struct {
	File string
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Includer opens an external parsed entity (<!ENTITY name SYSTEM "file">) of a document:
// systemID as written, relative to the including file. It returns the content and the
// path to name in findings.
type Includer func(systemID, from string) (content []byte, path string, err error)

// ParseXML reads one XML document. file names it in positions and errors; include, when
// set, resolves external entities (Tomcat's parser follows them, which is how a
// server.xml is split into files). Without it, an external entity is an error.
func ParseXML(r io.Reader, file string, include Includer) (*Element, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, &ParseError{File: file, Err: err}
	}
	if len(b) > MaxSize {
		return nil, &ParseError{File: file, Err: fmt.Errorf("larger than %d bytes", MaxSize)}
	}
	p := &parser{include: include}
	kids, err := p.parse(b, file, false, nil, 0)
	if err != nil {
		return nil, err
	}
	if len(kids) != 1 {
		return nil, &ParseError{File: file, Err: errors.New("no root element")}
	}
	return kids[0], nil
}

type parser struct {
	include  Includer
	elements int
}

// entityMark brackets the name of an external entity in the text the decoder hands back:
// a private-use character, legal in XML and never in a Tomcat configuration.
const entityMark = "\uE000"

// parse decodes b and returns its top-level elements. A fragment is an external entity's
// content: any number of elements, no DOCTYPE. entities are the document's own.
func (p *parser) parse(b []byte, file string, fragment bool, entities map[string]entity, depth int) ([]*Element, error) {
	fail := func(line int, err error) ([]*Element, error) {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			line, err = se.Line, errors.New(se.Msg)
		}
		return nil, &ParseError{File: file, Line: line, Err: err}
	}
	src := b
	if fragment {
		// An external entity may start with a text declaration; wrap the rest in a root
		// of our own, on the same line, so line numbers stay the file's.
		src = append(append([]byte("<x>"), blankTextDecl(b)...), "</x>"...)
	}
	d := xml.NewDecoder(bytes.NewReader(src))
	d.Strict = true
	d.CharsetReader = charsetReader
	d.Entity = entityValues(entities)
	var stack []*Element
	var top []*Element
	sawRoot := false
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(line, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if fragment || sawRoot {
				return fail(line, errors.New("unexpected <!...> declaration"))
			}
			if entities, err = declaredEntities(string(t)); err != nil {
				return fail(line, err)
			}
			d.Entity = entityValues(entities)
		case xml.StartElement:
			if p.elements++; p.elements > maxElements {
				return fail(line, fmt.Errorf("more than %d elements", maxElements))
			}
			if len(stack) >= maxDepth {
				return fail(line, fmt.Errorf("elements nested deeper than %d", maxDepth))
			}
			e := &Element{Name: t.Name.Local, File: file, Line: line}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				if strings.Contains(a.Value, entityMark) {
					return fail(line, fmt.Errorf("attribute %s refers to an external entity", a.Name.Local))
				}
				if _, dup := e.Get(a.Name.Local); dup {
					return fail(line, fmt.Errorf("attribute %s appears twice in <%s>", a.Name.Local, e.Name))
				}
				e.Attrs = append(e.Attrs, Attr{Name: a.Name.Local, Value: a.Value})
			}
			switch {
			case len(stack) > 0:
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, e)
			case sawRoot && !fragment:
				return fail(line, errors.New("more than one root element"))
			default:
				top = append(top, e)
			}
			sawRoot = true
			stack = append(stack, e)
		case xml.EndElement:
			e := stack[len(stack)-1]
			e.Text = strings.TrimSpace(e.Text)
			stack = stack[:len(stack)-1]
		case xml.CharData:
			text := string(t)
			if !strings.Contains(text, entityMark) {
				if len(stack) > 0 {
					stack[len(stack)-1].Text += text
				}
				continue
			}
			kids, err := p.expand(text, file, entities, depth, line)
			if err != nil {
				return nil, err
			}
			if len(stack) == 0 {
				return fail(line, errors.New("external entity outside the root element"))
			}
			parent := stack[len(stack)-1]
			parent.Children = append(parent.Children, kids...)
		}
	}
	if fragment && len(top) == 1 && top[0].Name == "x" {
		return top[0].Children, nil
	}
	return top, nil
}

// expand splices in the elements of the external entities named in text.
func (p *parser) expand(text, file string, entities map[string]entity, depth, line int) ([]*Element, error) {
	var out []*Element
	parts := strings.Split(text, entityMark)
	for i := 1; i < len(parts); i += 2 {
		name := parts[i]
		ent := entities[name]
		if p.include == nil {
			return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("external entity &%s; (%s) is not followed here", name, ent.system)}
		}
		if depth+1 > maxIncludes {
			return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("external entities nested deeper than %d", maxIncludes)}
		}
		b, path, err := p.include(ent.system, file)
		if err != nil {
			return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("entity &%s;: %w", name, err)}
		}
		if len(b) > MaxSize {
			return nil, &ParseError{File: path, Err: fmt.Errorf("larger than %d bytes", MaxSize)}
		}
		kids, err := p.parse(b, path, true, entities, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, kids...)
	}
	return out, nil
}

type entity struct {
	value  string // internal entity
	system string // external entity's system identifier
}

func entityValues(ents map[string]entity) map[string]string {
	m := make(map[string]string, len(ents))
	for name, e := range ents {
		if e.system != "" {
			m[name] = entityMark + name + entityMark
		} else {
			m[name] = e.value
		}
	}
	return m
}

// entityDecl matches the two entity forms a configuration uses: internal
// <!ENTITY name "value"> and external <!ENTITY name SYSTEM "file">. Parameter
// entities (%) and PUBLIC identifiers are not followed.
var entityDecl = regexp.MustCompile(`<!ENTITY\s+([A-Za-z_][\w.\-]*)\s+(?:SYSTEM\s+)?("[^"]*"|'[^']*')\s*>`)

// declaredEntities reads the internal subset of a DOCTYPE declaration.
func declaredEntities(directive string) (map[string]entity, error) {
	if !strings.HasPrefix(directive, "DOCTYPE") {
		return nil, nil
	}
	_, subset, ok := strings.Cut(directive, "[")
	if !ok {
		return nil, nil
	}
	out := map[string]entity{}
	for _, m := range entityDecl.FindAllStringSubmatch(subset, -1) {
		val := m[2][1 : len(m[2])-1]
		if strings.Contains(m[0], "SYSTEM") {
			out[m[1]] = entity{system: val}
		} else if strings.Contains(val, "&") || strings.Contains(val, "<") {
			return nil, fmt.Errorf("entity %s: markup in entity values is not supported", m[1])
		} else {
			out[m[1]] = entity{value: val}
		}
	}
	return out, nil
}

// blankTextDecl replaces a leading <?xml ...?> text declaration with spaces, keeping
// every newline, so the line numbers of what follows do not move.
func blankTextDecl(b []byte) []byte {
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		return b
	}
	end := bytes.Index(b, []byte("?>"))
	if end < 0 {
		return b
	}
	out := append([]byte(nil), b...)
	for i := 0; i < end+2; i++ {
		if out[i] != '\n' {
			out[i] = ' '
		}
	}
	return out
}
