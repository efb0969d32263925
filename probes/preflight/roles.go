package preflight

import (
	"fmt"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes/web"
)

// DetectRoles says what the host is when --role does not: a web host where httpd or nginx
// balances over the Tomcats, a WAS host where a Tomcat is found, both where both are; a
// host with neither is taken for a WAS host whose Tomcat is not installed yet, the checks
// clusterdoctor began with. why says what was found.
// A web host whose Tomcat is installed but not running is both.
func DetectRoles(env *probes.Env, found *tomcat.Found) (roles []string, why string) {
	tc := false
	if found != nil {
		for _, in := range found.Instances {
			// A JVM in another network namespace (a container's) is not this host's Tomcat.
			tc = tc || in.PID <= 0 || in.InThisNetns()
		}
	}
	balances := web.Balances(env)
	switch {
	case balances != "" && tc:
		return []string{probes.RoleWeb, probes.RoleWAS}, "detected: " + balances + ", and a Tomcat"
	case balances != "":
		return []string{probes.RoleWeb}, "detected: " + balances + ", no Tomcat"
	case tc:
		return []string{probes.RoleWAS}, "detected: a Tomcat, no balancer"
	case found != nil && len(found.Nodes) > 0:
		return []string{probes.RoleWAS}, fmt.Sprintf("detected: no balancer, no Tomcat in this network namespace, %d in containers", len(found.Nodes))
	}
	return []string{probes.RoleWAS}, "detected: no balancer, no Tomcat found"
}
