package preflight

import (
	"slices"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/tomcat"
)

// TestByRole: a web host keeps its own checks and those of every host; a Tomcat host
// skips the web checks; a host that is both, or whose roles are unknown, keeps all.
func TestByRole(t *testing.T) {
	for _, tc := range []struct {
		roles []string
		kept  []string // every other check is skipped
	}{
		{[]string{probes.RoleWeb}, []string{"ajp.workers", "hosts.peers", "link.cluster", "ntp.sync", "web.upstreams"}},
		{[]string{probes.RoleWAS}, nil},
		{[]string{probes.RoleWeb, probes.RoleWAS}, nil},
		{nil, nil},
	} {
		s := probes.Defaults()
		s.Iface, s.Roles, s.Sources = "cl0", tc.roles, map[string]string{"roles": "flag"}
		all := checks(s, Choice{}, nil)
		skipped := 0
		for _, p := range all {
			na, isNA := p.(notApplicable)
			kept := !isNA
			if len(tc.kept) > 0 {
				want := slices.Contains(tc.kept, p.ID())
				if kept != want {
					t.Errorf("roles %v: %s kept = %v; want %v", tc.roles, p.ID(), kept, want)
				}
			}
			if isNA {
				skipped++
				if !strings.Contains(na.why, "(role ") || !strings.Contains(na.why, "flag)") {
					t.Errorf("roles %v: %s skipped saying %q; want the role and its source", tc.roles, p.ID(), na.why)
				}
			}
		}
		switch {
		case len(tc.roles) == 1 && tc.roles[0] == probes.RoleWAS && skipped != 2:
			t.Errorf("roles was: %d checks skipped; want the 2 web checks", skipped)
		case len(tc.roles) != 1 && skipped != 0:
			t.Errorf("roles %v: %d checks skipped; want none", tc.roles, skipped)
		}
	}
}

// TestContainerHost: a host whose only Tomcats run in containers keeps the checks of every
// host and skips the Tomcat host's, saying its Tomcats are checked as nodes; roles the
// operator gives are kept as given, and a Tomcat of its own keeps every check.
func TestContainerHost(t *testing.T) {
	nodes := &tomcat.Found{Nodes: []tomcat.Node{{PID: 4242, NetNS: "net:[2]", Base: "/usr/local/tomcat"}}}
	for _, tc := range []struct {
		name    string
		found   *tomcat.Found
		source  string
		skipped bool
	}{
		{"containers only, detected", nodes, "", true},
		{"containers only, --role was", nodes, "flag", false},
		{"a Tomcat of its own too", &tomcat.Found{Instances: []*tomcat.Instance{{Base: "/opt/tomcat"}}, Nodes: nodes.Nodes}, "", false},
	} {
		s := probes.Defaults()
		s.Iface, s.Sources = "cl0", map[string]string{}
		s.Roles, s.Sources["roles"] = DetectRoles(&probes.Env{Root: t.TempDir()}, tc.found)
		if tc.source != "" {
			s.Sources["roles"] = tc.source
		}
		for _, p := range checks(s, Choice{}, tc.found) {
			na, isNA := p.(notApplicable)
			wantSkip := tc.skipped && !forEveryHost[p.ID()] && !webOnly[p.ID()] && !containerHostToo[p.ID()]
			if wantSkip != (isNA && strings.Contains(na.why, "checked as a node of its own")) {
				t.Errorf("%s: %s skipped = %v (%q); want %v", tc.name, p.ID(), isNA, na.why, wantSkip)
			}
		}
	}
}
