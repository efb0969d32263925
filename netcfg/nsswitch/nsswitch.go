// Package nsswitch reads the "hosts:" line of nsswitch.conf(5): which name services are
// asked, in which order, and when a lookup stops.
package nsswitch

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// MaxSize caps the input; nsswitch.conf is a few hundred bytes.
const MaxSize = 1 << 20

// Source is one service of a database line, such as "files" or "dns [NOTFOUND=return]".
type Source struct {
	// Name is the service ("files", "dns", "myhostname", "resolve", "mdns4_minimal", ...).
	Name string
	// Actions maps a status (SUCCESS, NOTFOUND, UNAVAIL, TRYAGAIN, upper case) to
	// "return" or "continue", as given in brackets; negated statuses are stored "!NOTFOUND".
	Actions map[string]string
}

// ReturnsOn reports whether the lookup stops after this source with the given status,
// applying glibc's defaults (return on SUCCESS, continue otherwise).
func (s Source) ReturnsOn(status string) bool {
	if a, ok := s.Actions[status]; ok {
		return a == "return"
	}
	for k, a := range s.Actions {
		if strings.HasPrefix(k, "!") && k[1:] != status {
			return a == "return"
		}
	}
	return status == "SUCCESS"
}

// DefaultHosts is what glibc uses when nsswitch.conf has no hosts line: "dns files".
// Most distributions ship "files dns" or "files myhostname dns"; the file decides.
var DefaultHosts = []Source{{Name: "dns"}, {Name: "files"}}

// ParseHosts returns the sources of the hosts database, or DefaultHosts when the file has
// no hosts line.
func ParseHosts(r io.Reader) ([]Source, error) {
	sc := bufio.NewScanner(io.LimitReader(r, MaxSize))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		db, rest, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(db) != "hosts" {
			continue
		}
		return parseSources(rest)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read nsswitch.conf: %w", err)
	}
	return DefaultHosts, nil
}

func parseSources(s string) ([]Source, error) {
	var out []Source
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '[' {
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("hosts: unterminated '[' in %q", s)
			}
			if len(out) == 0 {
				return nil, fmt.Errorf("hosts: action %q before any service", s[:end+1])
			}
			if err := parseActions(s[1:end], out[len(out)-1].Actions); err != nil {
				return nil, err
			}
			s = s[end+1:]
			continue
		}
		end := strings.IndexAny(s, " \t[")
		if end < 0 {
			end = len(s)
		}
		out = append(out, Source{Name: s[:end], Actions: map[string]string{}})
		s = s[end:]
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("hosts: no services listed")
	}
	return out, nil
}

func parseActions(s string, into map[string]string) error {
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		v = strings.ToLower(v)
		if !ok || (v != "return" && v != "continue" && v != "merge") {
			return fmt.Errorf("hosts: bad action %q (want STATUS=return or STATUS=continue)", f)
		}
		into[strings.ToUpper(k)] = v
	}
	return nil
}
