package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/netcfg/modjk"
)

// jkState is what mod_jk's status worker says of a member now: its activation (ACT,
// DIS, STP) and its state (OK, OK/IDLE, ERR, ERR/REC, ERR/LOCAL, BUSY...).
type jkState struct {
	activation, state string
}

// sends reports whether mod_jk sends the member requests: active and not in error.
func (s jkState) sends() bool {
	return (s.activation == "" || s.activation == "ACT") && !strings.HasPrefix(s.state, "ERR")
}

func (s jkState) String() string {
	var parts []string
	switch s.activation {
	case "DIS":
		parts = append(parts, "disabled (DIS: only its own sessions go to it)")
	case "STP":
		parts = append(parts, "stopped (STP: nothing goes to it)")
	}
	if strings.HasPrefix(s.state, "ERR") {
		parts = append(parts, "in error ("+s.state+": mod_jk sends it nothing until it recovers)")
	}
	return strings.Join(parts, " and ")
}

// jkStatusHint says how to have the runtime state read, where no status worker is mounted.
const jkStatusHint = "mod_jk's runtime state is not read: no status worker is mounted (worker.list=...,jkstatus with worker.jkstatus.type=status and worker.jkstatus.read_only=true, JkMount /jkstatus jkstatus inside a <Location> that only allows 127.0.0.1)"

// jkStatus reads mod_jk's status worker, where one is mounted, through the httpd that
// serves it: the members' states by worker name. note says why there are none.
// Equivalent to: curl 'http://127.0.0.1/jkstatus?mime=prop'.
func jkStatus(ctx context.Context, conf *HTTPDConfig, wf *modjk.File, ms []mount) (map[string]jkState, string) {
	status := map[string]bool{}
	for _, n := range wf.List() {
		if w, _ := wf.Worker(n); w.Type() == "status" {
			status[n] = true
		}
	}
	for _, m := range ms {
		if !status[m.worker] {
			continue
		}
		for _, port := range conf.mountPorts(m) {
			host := "127.0.0.1"
			for _, l := range conf.listens() {
				if l.port == port && l.ip != "" && l.ip != "0.0.0.0" && l.ip != "::" {
					host = l.ip
				}
			}
			path := strings.TrimSuffix(strings.TrimSuffix(m.path, "*"), "/")
			url := fmt.Sprintf("http://%s%s?mime=prop", net.JoinHostPort(host, strconv.Itoa(port)), path)
			states, err := readJKStatus(ctx, url)
			if err != nil {
				return nil, fmt.Sprintf("mod_jk's status worker %s (%s) could not be read at %s: %v", m.worker, m.where, url, err)
			}
			return states, ""
		}
	}
	return nil, jkStatusHint
}

// jkStatusTimeout bounds the status worker's answer.
const jkStatusTimeout = time.Second

// readJKStatus asks the status worker for its properties form and reads the members'
// activation and state.
func readJKStatus(ctx context.Context, url string) (map[string]jkState, error) {
	return askStatusPage(ctx, url, parseJKStatus)
}

// askStatusPage GETs a balancer's own status page on this host (mod_jk's status worker,
// httpd's balancer-manager), within jkStatusTimeout, and reads it with parse.
func askStatusPage[T any](ctx context.Context, url string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	ctx, cancel := context.WithTimeout(ctx, jkStatusTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return zero, err
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return zero, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return zero, fmt.Errorf("answered %s", resp.Status)
	}
	return parse(io.LimitReader(resp.Body, 4<<20))
}

// parseJKStatus reads worker.NAME.activation and worker.NAME.state lines of mime=prop.
func parseJKStatus(r io.Reader) (map[string]jkState, error) {
	out := map[string]jkState{}
	sc := bufio.NewScanner(r)
	seen := false
	for sc.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || !strings.HasPrefix(key, "worker.") {
			continue
		}
		seen = true
		rest := strings.TrimPrefix(key, "worker.")
		dot := strings.LastIndexByte(rest, '.')
		if dot <= 0 {
			continue
		}
		name, prop := rest[:dot], rest[dot+1:]
		s := out[name]
		switch prop {
		case "activation":
			s.activation = val
		case "state":
			s.state = val
		default:
			continue
		}
		out[name] = s
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !seen {
		return nil, fmt.Errorf("the answer has no worker properties (not a status worker's mime=prop)")
	}
	return out, nil
}
