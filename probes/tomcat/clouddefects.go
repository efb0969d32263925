package tomcat

import (
	"fmt"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Cloud membership's defects, each with the release that fixed it, read from
// apache/tomcat's changelogs (webapps/docs/changelog.xml of each branch) and tags.
var (
	// dnsAlias: membershipProviderClassName="dns" is taken for DNSMembershipProvider
	// ("Allow configuring the DNSMembershipProvider using the dns alias", 9.0.32).
	dnsAlias = Since{"9.0": 32}
	// dnsCacheWorkaround: "Work around DNS caching for the DNS provider of the cloud
	// membership" (9.0.42); before it, the JVM's cache hides members added later.
	dnsCacheWorkaround = Since{"9.0": 42}
	// kubeStartsWithoutAPI: "Avoid failing Kubernetes membership (and preventing startup)
	// if the stream cannot be opened" (9.0.23).
	kubeStartsWithoutAPI = Since{"9.0": 23}
	// kubeTokenReload: bug 69598, the service account token is read again when it changes
	// (9.0.101, 10.1.37, 11.0.5); before it a rotated token is refused until a restart.
	kubeTokenReload = Since{"9.0": 101, "10.1": 37, "11.0": 5}
	// kubeIPv6Host: bug 69970, a raw IPv6 KUBERNETES_SERVICE_HOST (9.0.116, 10.1.53, 11.0.19).
	kubeIPv6Host = Since{"9.0": 116, "10.1": 53, "11.0": 19}
)

// cloudDefects are the known defects of this release's cloud membership that apply to how
// it is configured: failures (it cannot work) and warnings (it works until something
// happens), each naming the release that fixed it.
func cloudDefects(in *Instance, provider string, environ map[string]string) (fails, warns []string) {
	v := in.Version
	if v.IsZero() {
		return nil, nil
	}
	fixed := func(s Since) string {
		var out []string
		for _, series := range []string{"9.0", "10.1", "11.0"} {
			if p, ok := s[series]; ok {
				out = append(out, fmt.Sprintf("%s.%d", series, p))
			}
		}
		return strings.Join(out, ", ")
	}
	switch providerKind(provider) {
	case "dns":
		if strings.EqualFold(provider, "dns") && !dnsAlias.In(v) {
			fails = append(fails, fmt.Sprintf("membershipProviderClassName=\"dns\" is not known to Tomcat %s (the alias came in %s): it tries to load a class named dns and the cluster does not start; write org.apache.catalina.tribes.membership.cloud.DNSMembershipProvider", v, fixed(dnsAlias)))
		}
		if !dnsCacheWorkaround.In(v) {
			warns = append(warns, fmt.Sprintf("Tomcat %s's DNS provider lets the JVM's DNS cache hide members added later (worked around in %s)", v, fixed(dnsCacheWorkaround)))
		}
	case "kubernetes":
		if !kubeStartsWithoutAPI.In(v) {
			warns = append(warns, fmt.Sprintf("Tomcat %s does not start while the API server cannot be reached (fixed in %s)", v, fixed(kubeStartsWithoutAPI)))
		}
		if !kubeTokenReload.In(v) {
			warns = append(warns, fmt.Sprintf("Tomcat %s reads the service account token once: a rotated token (bound tokens expire within an hour) is refused with 401 until a restart (bug 69598, fixed in %s)", v, fixed(kubeTokenReload)))
		}
		if host := kubeEnv(environ, "OPENSHIFT_KUBE_PING_MASTER_HOST", "KUBERNETES_SERVICE_HOST"); strings.Contains(host, ":") && !kubeIPv6Host.In(v) {
			fails = append(fails, fmt.Sprintf("KUBERNETES_SERVICE_HOST=%s is an IPv6 address, which Tomcat %s puts in its URL without brackets (bug 69970, fixed in %s): no request succeeds", host, v, fixed(kubeIPv6Host)))
		}
	}
	return fails, warns
}

// withDefects puts the release's known defects over a cloud membership result: a failure
// leads, a warning turns a pass into a warning.
func withDefects(r probes.Result, in *Instance, fails, warns []string) probes.Result {
	switch {
	case len(fails) > 0:
		return probes.FailResult(r.ID, fmt.Sprintf("%s: %s", in.Label(), fails[0])).
			With(strings.Join(append(append(fails[1:], warns...), r.Summary), "; "), "upgrade Tomcat, or change the setting as said", r.Evidence)
	case len(warns) > 0 && r.Status == probes.Pass:
		return probes.WarnResult(r.ID, fmt.Sprintf("%s: %s", in.Label(), warns[0])).
			With(strings.Join(append(warns[1:], r.Summary), "; "), "upgrade Tomcat to a release with the fix", r.Evidence)
	case len(warns) > 0:
		r.Detail = strings.TrimPrefix(r.Detail+"; "+strings.Join(warns, "; "), "; ")
	}
	return r
}
