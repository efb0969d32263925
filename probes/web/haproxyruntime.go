package web

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// runtimeTimeout bounds one question to HAProxy's runtime API.
const runtimeTimeout = time.Second

// maxStat bounds what is read of `show stat`.
const maxStat = 4 << 20

// serverState is what HAProxy's runtime API says of a server now.
type serverState struct {
	// status is show stat's: UP, DOWN, MAINT, DRAIN, NOLB, "no check", with a
	// transition ("UP 1/3") or a cause ("MAINT (via b/s)").
	status string
	// since is how long it has been so (lastchg), where known.
	since time.Duration
	known bool
}

func (s serverState) String() string {
	if s.known {
		return fmt.Sprintf("%s for %s", s.status, s.since)
	}
	return s.status
}

// sends reports whether HAProxy sends the server requests in this state.
func (s serverState) sends() bool {
	return strings.HasPrefix(s.status, "UP") || s.status == "no check" || s.status == ""
}

// runtime fills the servers' states from the running haproxy's stats socket; the note
// says why there are none (no socket configured: a hint, once).
func (c *haproxyConfig) runtime(ctx context.Context, ups []upstream) string {
	if c.pid == 0 || len(ups) == 0 {
		return ""
	}
	addrs := c.statsSockets()
	if len(addrs) == 0 {
		return "HAProxy's runtime state is not read: its global section has no stats socket (stats socket /run/haproxy/admin.sock mode 660 level user gives it, read-only)"
	}
	var states map[string]serverState
	var err error
	for _, a := range addrs {
		if states, err = showStat(ctx, a[0], a[1]); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Sprintf("HAProxy's runtime state could not be read: %v", err)
	}
	for i := range ups {
		for j := range ups[i].servers {
			if st, ok := states[ups[i].servers[j].runtimeKey]; ok {
				ups[i].servers[j].state, ups[i].servers[j].stateFrom = st, "the running HAProxy"
			}
		}
	}
	return ""
}

// statsSockets are the global section's `stats socket` addresses as network and address
// to dial: a path (unix@ or plain, through the process's own root) or ipv4@/ipv6@ HOST:PORT.
func (c *haproxyConfig) statsSockets() [][2]string {
	var out [][2]string
	for _, g := range c.cfg.Of("global") {
		for _, l := range g.All("stats") {
			args := l.Args()
			if len(args) < 2 || args[0] != "socket" {
				continue
			}
			a := args[1]
			switch {
			case strings.HasPrefix(a, "unix@"):
				out = append(out, [2]string{"unix", c.env.Path(strings.TrimPrefix(a, "unix@"))})
			case strings.HasPrefix(a, "/"):
				out = append(out, [2]string{"unix", c.env.Path(a)})
			case strings.HasPrefix(a, "ipv4@"), strings.HasPrefix(a, "ipv6@"):
				out = append(out, [2]string{"tcp", a[5:]})
			case strings.Contains(a, ":"):
				out = append(out, [2]string{"tcp", a})
			}
		}
	}
	return out
}

// showStat asks `show stat` and returns the servers' states by PROXY/SERVER. Equivalent
// to: echo "show stat" | socat stdio UNIX-CONNECT:/run/haproxy/admin.sock.
func showStat(ctx context.Context, network, addr string) (map[string]serverState, error) {
	ctx, cancel := context.WithTimeout(ctx, runtimeTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("connect to the stats socket %s: %w", addr, err)
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	if _, err := io.WriteString(conn, "show stat\n"); err != nil {
		return nil, fmt.Errorf("ask the stats socket %s: %w", addr, err)
	}
	return parseStat(io.LimitReader(conn, maxStat))
}

// parseStat reads show stat's CSV: a "# " header naming the columns, then a row per
// frontend, server and backend.
func parseStat(r io.Reader) (map[string]serverState, error) {
	br := bufio.NewReader(r)
	head, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(head, "# ") {
		return nil, fmt.Errorf("show stat answered %q, not its CSV header", strings.TrimSpace(head))
	}
	col := map[string]int{}
	for i, name := range strings.Split(strings.TrimSpace(strings.TrimPrefix(head, "# ")), ",") {
		col[name] = i
	}
	px, sv, st, lc := col["pxname"], col["svname"], col["status"], col["lastchg"]
	if _, ok := col["status"]; !ok {
		return nil, fmt.Errorf("show stat has no status column")
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	out := map[string]serverState{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read show stat: %w", err)
		}
		if len(rec) <= max(px, sv, st, lc) || rec[sv] == "FRONTEND" || rec[sv] == "BACKEND" {
			continue
		}
		s := serverState{status: rec[st]}
		if n, err := strconv.Atoi(rec[lc]); err == nil {
			s.since, s.known = time.Duration(n)*time.Second, true
		}
		out[rec[px]+"/"+rec[sv]] = s
	}
}
