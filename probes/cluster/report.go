package cluster

import (
	"sync"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
	"github.com/clusterdoctor/clusterdoctor/probes/members"
	"github.com/clusterdoctor/clusterdoctor/probes/replication"
)

// Report is one cluster run, the JSON document of `cluster -o json`. Fields are added,
// never renamed.
type Report struct {
	SchemaVersion int       `json:"schemaVersion"`
	Tool          string    `json:"tool"`
	Version       string    `json:"version"`
	StartedAt     time.Time `json:"startedAt"`
	DurationMs    int64     `json:"durationMs"`
	// URL is the page session-test went through, where one was given.
	URL         string        `json:"url,omitempty"`
	Hosts       []*HostReport `json:"hosts"`
	Comparisons []Comparison  `json:"comparisons"`
	// Fixes are what --fix planned and applied; Before the findings of the run before
	// them (this report is the run after).
	Fixes  []Fix     `json:"fixes,omitempty"`
	Before []Finding `json:"before,omitempty"`
	// Causes are the faults the findings come down to, each on its host with the
	// findings it explains; Unexplained the findings no cause accounts for.
	Causes      []Cause   `json:"causes"`
	Unexplained []Finding `json:"unexplained"`
}

// HostReport is what one host said, each command's report as that command writes it.
type HostReport struct {
	Name    string   `json:"name"`
	Address string   `json:"address"`
	Roles   []string `json:"roles"`
	// RolesFrom says where the roles came from: "inventory", "--role" or "detected".
	RolesFrom string `json:"rolesFrom,omitempty"`
	Reachable bool   `json:"reachable"`
	// Error is why the host could not be used, in ssh's or sudo's words, with what to do.
	Error string `json:"error,omitempty"`
	// Hostname is the host's own name; Binary how clusterdoctor ran there.
	Hostname string `json:"hostname,omitempty"`
	Binary   string `json:"binary,omitempty"`
	// Checks are preflight's, Settings its effective settings, Nodes its containers.
	Checks   []probes.Result     `json:"checks,omitempty"`
	Settings *probes.Settings    `json:"settings,omitempty"`
	Nodes    []probes.NodeReport `json:"nodes,omitempty"`
	// Mesh is mcast-test's report (WAS hosts), Members members' (WAS hosts), SessionTest
	// session-test's (web hosts, through --url or the page the host's balancer serves).
	Mesh        *mcast.Report       `json:"mesh,omitempty"`
	Members     *members.Report     `json:"members,omitempty"`
	SessionTest *replication.Report `json:"sessionTest,omitempty"`
	// Problems are commands that could not run on the host, each in its own words; Notes
	// what was not run and why, though nothing is wrong (session-test without --url on
	// a web host whose balancers serve no one page).
	Problems []string `json:"problems,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	// TimingsMs are how long reaching the host ("connect") and each command took, seen
	// from the seat (ssh and the login shell included).
	TimingsMs map[string]int64 `json:"timingsMs,omitempty"`

	mu sync.Mutex // the commands of a run fill the report at once
}

// Comparison is one thing only the whole cluster shows: each host's value, and whether
// the difference breaks clustering.
type Comparison struct {
	What   string            `json:"what"`
	Values map[string]string `json:"values"`
	Breaks bool              `json:"breaks"`
	Why    string            `json:"why,omitempty"`
	// Blame are the hosts where the difference is to be fixed (the node that lacks the
	// application, whose jvmRoute is not its worker's, whose clock is off), first first.
	Blame []string `json:"blame,omitempty"`
}

// HasRole says whether the host has role.
func (h *HostReport) HasRole(role string) bool {
	for _, r := range h.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Check is the host's preflight result of id, nil where it has none.
func (h *HostReport) Check(id string) *probes.Result {
	for i := range h.Checks {
		if h.Checks[i].ID == id {
			return &h.Checks[i]
		}
	}
	return nil
}

// ExitCode is preflight's convention over the cluster: 0 healthy, 1 a finding, 3 no host
// could be reached.
func (r *Report) ExitCode() int {
	reached := 0
	for _, h := range r.Hosts {
		if h.Reachable {
			reached++
		}
	}
	switch {
	case reached == 0:
		return probes.ExitIncomplete
	case len(r.Findings()) > 0:
		return probes.ExitFailed
	}
	return probes.ExitOK
}
