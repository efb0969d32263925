// Package chronyconf reads chrony.conf(5) far enough to find chronyd's command channel
// (bindcmdaddress, cmdport). Callers follow include and confdir themselves.
package chronyconf

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxSize caps the input; chrony.conf is a few kilobytes.
const MaxSize = 1 << 20

// Directive is one configuration line: a keyword and its arguments.
type Directive struct {
	Keyword string
	Args    []string
	Line    int
}

// Parse returns the directives of a chrony.conf in order. Comments start with '#', '%',
// ';' or '!' at the start of a line, as chronyd accepts.
func Parse(r io.Reader) ([]Directive, error) {
	sc := bufio.NewScanner(io.LimitReader(r, MaxSize))
	var out []Directive
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.ContainsAny(fields[0][:1], "#%;!") {
			continue
		}
		out = append(out, Directive{Keyword: strings.ToLower(fields[0]), Args: fields[1:], Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read chrony.conf: %w", err)
	}
	return out, nil
}

// Command describes how chronyc reaches chronyd, as configured.
type Command struct {
	// Socket is the Unix socket path (bindcmdaddress /path, default /run/chrony/chronyd.sock).
	Socket string
	// Port is the UDP command port on localhost (cmdport, default 323; 0 disables it).
	Port int
}

// DefaultSocket is chronyd's compiled-in socket on Debian, Ubuntu and RHEL 8+.
const DefaultSocket = "/run/chrony/chronyd.sock"

// CommandChannel folds directives into a Command, starting from chronyd's defaults.
// A later directive overrides an earlier one, as in chronyd.
func CommandChannel(ds []Directive) (Command, error) {
	c := Command{Socket: DefaultSocket, Port: 323}
	for _, d := range ds {
		switch d.Keyword {
		case "bindcmdaddress":
			if len(d.Args) > 0 && strings.HasPrefix(d.Args[0], "/") {
				c.Socket = d.Args[0]
			}
		case "cmdport":
			if len(d.Args) == 0 {
				return c, fmt.Errorf("line %d: cmdport needs a port", d.Line)
			}
			p, err := strconv.Atoi(d.Args[0])
			if err != nil || p < 0 || p > 65535 {
				return c, fmt.Errorf("line %d: bad cmdport %q", d.Line, d.Args[0])
			}
			c.Port = p
		}
	}
	return c, nil
}
