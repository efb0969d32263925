package tomcat

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxPropertiesSize bounds a properties file; catalina.properties is about 10 kB.
const MaxPropertiesSize = 1 << 20

// Properties is a java.util.Properties file (catalina.properties, logging.properties)
// read as Properties.load(InputStream) reads it: ISO-8859-1, # and ! comments, keys
// ended by '=', ':' or white space, backslash continuation lines and escapes.
type Properties struct {
	// Entries in file order; a key given twice appears twice (the last one wins).
	Entries []Property
	index   map[string]int
}

// Property is one key and its value, with the line its key is on.
type Property struct {
	Key, Value string
	Line       int
}

// Get returns the value of key as Java sees it: the last definition.
func (p *Properties) Get(key string) (Property, bool) {
	if p == nil {
		return Property{}, false
	}
	i, ok := p.index[key]
	if !ok {
		return Property{}, false
	}
	return p.Entries[i], true
}

// ParseProperties reads a properties file. Java's loader accepts any text, so the only
// errors are I/O, size and a malformed \u escape (which Java refuses too).
func ParseProperties(r io.Reader) (*Properties, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxPropertiesSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPropertiesSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxPropertiesSize)
	}
	// ISO-8859-1: every byte is the rune of the same number.
	runes := make([]rune, len(b))
	for i, c := range b {
		runes[i] = rune(c)
	}
	p := &Properties{index: map[string]int{}}
	lines := splitLines(runes)
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// A logical line goes on while a line ends in an odd number of backslashes.
		for endsInEscape(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if endsInEscape(line) {
			line = line[:len(line)-1]
		}
		key, value, err := splitProperty(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
		p.index[key] = len(p.Entries)
		p.Entries = append(p.Entries, Property{Key: key, Value: value, Line: start})
	}
	return p, nil
}

// splitLines splits on \n, \r and \r\n, as LineReader does.
func splitLines(rs []rune) []string {
	var out []string
	start := 0
	for i := 0; i < len(rs); i++ {
		if rs[i] == '\n' || rs[i] == '\r' {
			out = append(out, string(rs[start:i]))
			if rs[i] == '\r' && i+1 < len(rs) && rs[i+1] == '\n' {
				i++
			}
			start = i + 1
		}
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}

func endsInEscape(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitProperty separates key and value at the first unescaped '=', ':' or white space,
// then drops the white space and one separator after it, and unescapes both.
func splitProperty(line string) (string, string, error) {
	end := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			end = i
			break
		}
	}
	rest := line[end:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	key, err := unescape(line[:end])
	if err != nil {
		return "", "", err
	}
	value, err := unescape(rest)
	return key, value, err
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if rs[i] != '\\' || i+1 == len(rs) {
			b.WriteRune(rs[i])
			continue
		}
		i++
		switch rs[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 >= len(rs) {
				return "", fmt.Errorf("malformed \\uxxxx encoding")
			}
			v, err := strconv.ParseUint(string(rs[i+1:i+5]), 16, 16)
			if err != nil {
				return "", fmt.Errorf("malformed \\uxxxx encoding")
			}
			b.WriteRune(rune(v))
			i += 4
		default:
			b.WriteRune(rs[i])
		}
	}
	return b.String(), nil
}
