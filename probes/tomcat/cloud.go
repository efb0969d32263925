package tomcat

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/reach"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// jvmEnviron is the running JVM's environment (/proc/PID/environ), where cloud membership
// reads its settings (CloudMembershipProvider.getEnv); for an instance that does not run,
// what its service file and setenv.sh will give it (StartEnv); nil when neither says.
func (in *Instance) jvmEnviron() map[string]string {
	if in.PID <= 0 || in.env == nil {
		return in.StartEnv // not running: what its start will give it
	}
	environ, _ := in.env.Environ(in.PID)
	return environ
}

// providerKind is the cloud provider CloudMembershipService creates: "kubernetes" (the
// default, and the shortcut), "dns" (the shortcut or DNSMembershipProvider), else the
// class as written.
func providerKind(p string) string {
	switch {
	case strings.EqualFold(p, "kubernetes"), strings.HasSuffix(p, ".KubernetesMembershipProvider"):
		return "kubernetes"
	case strings.EqualFold(p, "dns"), strings.HasSuffix(p, ".DNSMembershipProvider"):
		return "dns"
	}
	return p
}

// dnsServiceName is the name DNSMembershipProvider.start resolves: DNS_MEMBERSHIP_SERVICE_NAME,
// else the namespace (OPENSHIFT_KUBE_PING_NAMESPACE, KUBERNETES_NAMESPACE), else "tomcat"
// (CloudMembershipProvider.getNamespace warns "Namespace not set" and takes it), and where
// it came from.
func dnsServiceName(environ map[string]string) (name, from string) {
	for _, k := range []string{"DNS_MEMBERSHIP_SERVICE_NAME", "OPENSHIFT_KUBE_PING_NAMESPACE", "KUBERNETES_NAMESPACE"} {
		if v := environ[k]; v != "" {
			return v, k
		}
	}
	return "tomcat", "no DNS_MEMBERSHIP_SERVICE_NAME or namespace in the JVM's environment: Tomcat's default"
}

// judgeDNS judges DNSMembershipProvider as it runs: the service name from the JVM's
// environment (jvmEnviron), resolved as the JVM resolves it (InetAddress.getAllByName through the
// host's nsswitch and DNS); every address but this node's own is a member, reached on
// this node's Receiver port (DNS members share it); no other address is no member.
func judgeDNS(ctx context.Context, in *Instance, environ map[string]string, res *resolve.Resolver, local []probes.IfaceAddr, ev map[string]any) probes.Result {
	const id = "tomcat.membership"
	if environ == nil {
		return probes.UnknownResult(id, fmt.Sprintf("%s: DNS membership reads the JVM's environment (DNS_MEMBERSHIP_SERVICE_NAME), and neither a running JVM nor its setenv.sh or service file says it", in.Label())).
			With("", "run it on the host while Tomcat runs, or export the variables in bin/setenv.sh", ev)
	}
	name, from := dnsServiceName(environ)
	ev["service"], ev["serviceFrom"] = name, from
	c, _ := in.Cluster()
	r := receiverOf(in, c)
	ans, err := res.Lookup(ctx, name)
	if err != nil {
		return probes.FailResult(id, fmt.Sprintf("%s: DNS membership: %s (%s) does not resolve: %v", in.Label(), name, from, err)).
			With("DNSMembershipProvider finds no member (it logs \"Unable to look up DNS name\") and this node is a cluster of one",
				fmt.Sprintf("publish the members' addresses as A records of %s (a headless service), or set DNS_MEMBERSHIP_SERVICE_NAME to the name that has them", name), ev)
	}
	var members, bad []string
	for _, a := range ans.Addrs {
		if probes.HolderOf(local, a) != "" {
			continue // "We found ourselves, ignore"
		}
		ap := netip.AddrPortFrom(a, uint16(r.Port))
		out := reach.TCP(ctx, ap, memberDial)
		members = append(members, fmt.Sprintf("%s: %s", ap, out.Text()))
		if out.Outcome != reach.Open {
			bad = append(bad, fmt.Sprintf("%s %s", ap, out.Text()))
		}
	}
	ev["members"] = members
	switch {
	case len(members) == 0:
		return probes.FailResult(id, fmt.Sprintf("%s: DNS membership: %s (%s) resolves to this node only (%s)", in.Label(), name, from, joinAddrs(ans.Addrs))).
			With("DNSMembershipProvider takes every other address of the name as a member: there is none, so this node is a cluster of one",
				fmt.Sprintf("publish every member's address under %s (for Kubernetes, a headless service with publishNotReadyAddresses: true)", name), ev)
	case len(bad) > 0:
		return probes.FailResult(id, fmt.Sprintf("%s: DNS member %s", in.Label(), bad[0])).
			With(strings.Join(members, "; ")+"; DNS members are reached on this node's Receiver port",
				"open the Receiver port on every member, the same port on each", ev)
	}
	if ttl, ttlFrom, ok := in.dnsCacheTTL(); ok && (ttl < 0 || ttl > 300) {
		ev["dnsCacheTTL"] = ttl
		hidden := "forever"
		if ttl > 0 {
			hidden = fmt.Sprintf("for %d s", ttl)
		}
		return probes.WarnResult(id, fmt.Sprintf("%s: DNS membership: the JVM keeps %s's addresses %s (%s): members added later stay unknown that long", in.Label(), name, hidden, ttlFrom)).
			With(strings.Join(members, "; "), "set networkaddress.cache.ttl to a few seconds (30 is Java's default) in the JVM's java.security, or -Dsun.net.inetaddr.ttl=30 where java.security leaves it unset", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("%s: DNS membership: %s (%s) gives %d members, each accepting TCP (%s)", in.Label(), name, from, len(members), strings.Join(members, "; "))).
		With("multicast is not used: route.multicast, firewall.igmp and the membership port do not apply", "", ev)
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}
