// Package cluster diagnoses a whole Tomcat session cluster from one seat: on every host at
// once, over the operator's own ssh (package remote), it runs preflight with every other
// host as a peer, on the WAS hosts the mcast-test mesh and members, and from the web host
// session-test; then it compares what only the cluster as a whole shows (Tomcat versions,
// applications and their classes, jvmRoutes against the balancer's routes, settings).
//
// The commands run as they are, each writing its own JSON; this package only starts them
// on the right hosts at the right time and reads what they say, so a finding is always
// the host's own.
//
// Equivalent by hand, on every host and pair:
//
//	ssh HOST clusterdoctor preflight -o json --peer ...
//	ssh WAS  clusterdoctor mcast-test -o json --peer OTHER-WAS...   (all at once)
//	ssh WAS  clusterdoctor members -o json
//	ssh WEB  clusterdoctor session-test -o json [--url URL]
package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
	"github.com/clusterdoctor/clusterdoctor/probes/members"
	"github.com/clusterdoctor/clusterdoctor/probes/preflight"
	"github.com/clusterdoctor/clusterdoctor/probes/remote"
	"github.com/clusterdoctor/clusterdoctor/probes/replication"
)

// Host is one cluster host to diagnose.
type Host struct {
	remote.Target
	// Roles are "was", "web" or both; empty: detected on the host as preflight does.
	Roles     []string
	RolesFrom string
}

// Config is one cluster run.
type Config struct {
	Hosts []Host
	// URL is the page session-test goes through from the web hosts; empty: the one page
	// each web host's balancer serves, where it serves one.
	URL string
	// Client reaches the hosts.
	Client  *remote.Client
	Version string
	// PreflightArgs are given to every host's preflight (--skip, --ignore).
	PreflightArgs []string
	// Timeout bounds each command on a host (preflight's own --timeout is inside it).
	Timeout time.Duration
}

// Run diagnoses the cluster. A host that cannot be reached is reported with why; the
// others are diagnosed all the same.
func Run(ctx context.Context, cfg Config) *Report {
	start := time.Now()
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	rep := &Report{SchemaVersion: 1, Tool: "clusterdoctor", Version: cfg.Version, StartedAt: start.UTC(), URL: cfg.URL,
		Hosts: make([]*HostReport, len(cfg.Hosts)), Comparisons: []Comparison{}}
	sessions := make([]*remote.Session, len(cfg.Hosts))
	defer func() {
		var wg sync.WaitGroup
		for _, s := range sessions {
			if s != nil {
				wg.Go(func() { s.Close(context.WithoutCancel(ctx)) })
			}
		}
		wg.Wait()
	}()

	// Reach every host and learn its roles. Where the roles are all given, preflight
	// starts on each host as soon as it is reached; else once every host's are known, as
	// a Tomcat host's preflight takes the web hosts for peers of another kind. The tests
	// between hosts start once every host is reached.
	given := true
	for _, h := range cfg.Hosts {
		given = given && len(h.Roles) > 0
	}
	var all, rolesKnown sync.WaitGroup
	startPreflight := func(i int) {
		args := append(append(preflightPeers(rep.Hosts, i), roleArgs(rep.Hosts[i])...), cfg.PreflightArgs...)
		all.Go(func() { runPreflight(ctx, cfg, sessions[i], rep.Hosts[i], args) })
	}
	// members only listens on the host, so it starts as soon as the host is known to be
	// a Tomcat host: its seconds of listening overlap the others' set-up.
	startMembers := func(i int) {
		if rep.Hosts[i].HasRole(probes.RoleWAS) {
			all.Go(func() { runMembers(ctx, cfg, sessions[i], rep.Hosts[i]) })
		}
	}
	for i, h := range cfg.Hosts {
		rep.Hosts[i] = &HostReport{Name: h.Name, Address: h.Addr(), Roles: h.Roles, RolesFrom: h.RolesFrom}
	}
	for i, h := range cfg.Hosts {
		hr := rep.Hosts[i]
		rolesKnown.Add(1)
		all.Go(func() {
			defer rolesKnown.Done()
			began := time.Now()
			s, err := cfg.Client.Connect(ctx, h.Target)
			hr.timing("connect", began)
			if err != nil {
				hr.Error = err.Error()
				return
			}
			sessions[i] = s
			hr.took(s.Took)
			hr.Reachable, hr.Hostname, hr.Binary = true, s.Hostname, binaryNote(s)
			if given {
				startPreflight(i)
			} else {
				hr.Roles, hr.RolesFrom = detectRoles(ctx, cfg, s, hr), "detected"
			}
			startMembers(i)
		})
	}
	rolesKnown.Wait()
	for i, hr := range rep.Hosts {
		if hr.Reachable && !given {
			startPreflight(i)
		}
	}
	var was []int
	for i, hr := range rep.Hosts {
		if hr.Reachable && hr.HasRole(probes.RoleWAS) {
			was = append(was, i)
		}
	}
	for _, i := range was {
		s, hr := sessions[i], rep.Hosts[i]
		if len(was) > 1 {
			var peers []string
			for _, j := range was {
				if j != i {
					peers = append(peers, cfg.Hosts[j].Addr())
				}
			}
			all.Go(func() { runMesh(ctx, cfg, s, hr, peers) })
		}
	}
	for i, hr := range rep.Hosts {
		if hr.Reachable && hr.HasRole(probes.RoleWeb) {
			all.Go(func() { runSessionTest(ctx, cfg, sessions[i], hr) })
		}
	}
	all.Wait()
	rep.Comparisons = Compare(rep.Hosts)
	rep.Causes, rep.Unexplained = rep.Reduce()
	if rep.Causes == nil {
		rep.Causes = []Cause{}
	}
	if rep.Unexplained == nil {
		rep.Unexplained = []Finding{}
	}
	rep.DurationMs = time.Since(start).Milliseconds()
	return rep
}

// preflightPeers are preflight's arguments naming every other host: on a Tomcat host the
// web hosts as --web-peer (their requests come in, but no heartbeat of theirs is due),
// every other host as --peer.
func preflightPeers(hosts []*HostReport, i int) []string {
	args := []string{"preflight", "-o", "json"}
	for j, h := range hosts {
		switch {
		case j == i:
		case hosts[i].HasRole(probes.RoleWAS) && h.HasRole(probes.RoleWeb) && !h.HasRole(probes.RoleWAS):
			args = append(args, "--web-peer", h.Address)
		default:
			args = append(args, "--peer", h.Address)
		}
	}
	return args
}

func binaryNote(s *remote.Session) string {
	if s.Sudo {
		return binaryWhere(s) + ", through sudo -n"
	}
	return binaryWhere(s)
}

func binaryWhere(s *remote.Session) string {
	switch {
	case s.Target.Local:
		return "this host: " + s.Bin
	case s.Staged != "":
		return "copied to " + s.Staged + " for this run, removed after it"
	}
	return "on PATH: " + s.Bin
}

func withPeers(args []string, peers []string) []string {
	for _, p := range peers {
		args = append(args, "--peer", p)
	}
	return args
}

// command runs one clusterdoctor command on a host and decodes its JSON into v. Exit 0 and
// 1 carry a report; anything else is a problem of the host, in the command's own words.
func command(ctx context.Context, cfg Config, s *remote.Session, hr *HostReport, v any, args ...string) bool {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	began := time.Now()
	out, errOut, code, err := s.Run(ctx, args...)
	what := args[0]
	hr.timing(what, began)
	hr.mu.Lock()
	defer hr.mu.Unlock()
	switch {
	case err != nil:
		hr.Problems = append(hr.Problems, what+": "+err.Error())
		return false
	case code == probes.ExitUsage && what == "session-test" && cfg.URL == "":
		// no --url, and the host's web server serves no one page: not a fault of the host
		hr.Notes = append(hr.Notes, "session-test not run: "+oneLine(errOut, out))
		return false
	case code != 0 && code != 1:
		hr.Problems = append(hr.Problems, fmt.Sprintf("%s exited %d: %s", what, code, oneLine(errOut, out)))
		return false
	}
	if err := json.Unmarshal(out, v); err != nil { // v is this call's own
		hr.Problems = append(hr.Problems, fmt.Sprintf("%s wrote no report (exit %d): %v: %s", what, code, err, oneLine(errOut, out)))
		return false
	}
	return true
}

func oneLine(parts ...[]byte) string {
	for _, p := range parts {
		if s := strings.TrimSpace(string(p)); s != "" {
			lines := strings.Split(s, "\n")
			return strings.TrimPrefix(lines[len(lines)-1], "clusterdoctor: ")
		}
	}
	return "no message"
}

func roleArgs(hr *HostReport) []string {
	if hr.RolesFrom == "detected" || len(hr.Roles) == 0 {
		return nil
	}
	return []string{"--role", strings.Join(hr.Roles, ",")}
}

// detectRoles asks the host what it is: preflight with every check skipped does only the
// discovery.
func detectRoles(ctx context.Context, cfg Config, s *remote.Session, hr *HostReport) []string {
	var r probes.Report
	var scratch HostReport
	if !command(ctx, cfg, s, &scratch, &r, "preflight", "-o", "json", "--skip", strings.Join(preflight.IDs(), ",")) {
		hr.mu.Lock()
		hr.Problems = append(hr.Problems, "roles: "+strings.Join(scratch.Problems, "; "))
		hr.mu.Unlock()
		return nil
	}
	return r.Settings.Roles
}

func runPreflight(ctx context.Context, cfg Config, s *remote.Session, hr *HostReport, args []string) {
	var r probes.Report
	if command(ctx, cfg, s, hr, &r, args...) {
		hr.mu.Lock()
		hr.Checks, hr.Settings, hr.Nodes = r.Checks, &r.Settings, r.Nodes
		hr.mu.Unlock()
	}
}

// meshRounds are the mesh's rounds of requests, meshInterval apart: a second, where
// mcast-test alone sends 30 at 100 ms. As many requests each way as 20 at 100 ms, and far
// below the responders' rate limits. Loss above mcast-test's 1 % is any lost request
// either way.
const meshRounds, meshInterval = "20", "50ms"

func runMesh(ctx context.Context, cfg Config, s *remote.Session, hr *HostReport, peers []string) {
	var r mcast.Report
	if command(ctx, cfg, s, hr, &r, withPeers([]string{"mcast-test", "-o", "json", "--count", meshRounds, "--interval", meshInterval}, peers)...) {
		hr.mu.Lock()
		hr.Mesh = &r
		hr.mu.Unlock()
	}
}

// membersListen is how long members listens in a cluster run: four of Tomcat's heartbeat
// periods. A member that runs is heard within one; a member gone shows by its absence (or
// its shutdown packet), as it would in members' own 3 s, which no silence of dropTime
// (3 s) fits in either.
const membersListen = "2s"

func runMembers(ctx context.Context, cfg Config, s *remote.Session, hr *HostReport) {
	var r members.Report
	if command(ctx, cfg, s, hr, &r, "members", "-o", "json", "--duration", membersListen) {
		hr.mu.Lock()
		hr.Members = &r
		hr.mu.Unlock()
	}
}

func runSessionTest(ctx context.Context, cfg Config, s *remote.Session, hr *HostReport) {
	args := []string{"session-test", "-o", "json"}
	if cfg.URL != "" {
		args = append(args, "--url", cfg.URL)
	}
	var r replication.Report
	if command(ctx, cfg, s, hr, &r, args...) {
		hr.mu.Lock()
		hr.SessionTest = &r
		hr.mu.Unlock()
	}
}

// took records how long the parts of reaching the host took ("connect.ssh", ...).
func (h *HostReport) took(parts map[string]time.Duration) {
	for what, d := range parts {
		h.record("connect."+what, d)
	}
}

// timing records how long what took on the host, since began.
func (h *HostReport) timing(what string, began time.Time) { h.record(what, time.Since(began)) }

func (h *HostReport) record(what string, d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.TimingsMs == nil {
		h.TimingsMs = map[string]int64{}
	}
	h.TimingsMs[what] = d.Milliseconds()
}
