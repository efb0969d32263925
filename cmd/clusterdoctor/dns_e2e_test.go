package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// TestDNSMembershipAgainstTomcat: real Tomcat 10.1 with CloudMembershipService's
// DNSMembershipProvider, the service name in the JVM's environment, and a real DNS server
// (dnsmasq) in the lab. While the name holds only was1, Tomcat finds no member and
// tomcat.membership fails saying so; once was2's record is published and was2 runs, both
// find each other and the check names was2 accepting TCP; on was2, whose JVM caches names
// forever (-Dsun.net.inetaddr.ttl=-1), it warns that members added later stay unknown.
func TestDNSMembershipAgainstTomcat(t *testing.T) {
	lab.RequireTomcat(t)
	lab.RequireDNSServer(t)
	t.Parallel() // its lab is its own
	l := lab.New(t)
	a, b, d := l.AddHost("was1", 1), l.AddHost("was2", 2), l.AddHost("dns", 3)
	dns := d.StartDNSServer("10.99.0.1 tomcat.lab\n")
	conf := tcConf{JvmRoute: "tomcat1", Membership: `<Membership className="org.apache.catalina.tribes.membership.cloud.CloudMembershipService" membershipProviderClassName="dns"/>`}
	start := func(h *lab.Host, name, javaOpts string) *lab.Tomcat {
		return h.StartTomcat(lab.TomcatSpec{Name: name, Files: conf.files(), Hostname: h.Name, Hosts: hostsFor(h.Name, h.Addr.String()),
			Env: []string{"DNS_MEMBERSHIP_SERVICE_NAME=tomcat.lab"}, Nameserver: dns.Addr, JavaOpts: javaOpts})
	}
	resolv := l.WriteFile("resolv-view", "nameserver "+dns.Addr+"\noptions timeout:1 attempts:1\n")
	membershipOn := func(h *lab.Host) probes.Result {
		view := wasView(t, h, h.Name)
		view.Binds = map[string]string{"/etc/resolv.conf": resolv}
		rep, _ := preflightJSON(t, h, view, "--skip", "ntp.sync")
		return check(t, rep, "tomcat.membership")
	}
	membership := func() probes.Result { return membershipOn(a) }

	one := start(a, "dns-one", "")
	log := one.Started(t)
	if got := membership(); got.Status != probes.Fail || !strings.Contains(got.Summary, "tomcat.lab (DNS_MEMBERSHIP_SERVICE_NAME) resolves to this node only") {
		t.Errorf("tomcat.membership with was1 alone in DNS = %s %q; want fail: this node only", got.Status, got.Summary)
	}
	if strings.Contains(log, "Replication member added") {
		t.Errorf("Tomcat added a member with only itself in DNS:\n%s", log)
	}

	dns.Reload("10.99.0.1 tomcat.lab\n10.99.0.2 tomcat.lab\n")
	// was2's JVM keeps what it resolves forever: it finds was1 now, but no member added later
	two := start(b, "dns-two", "-Dsun.net.inetaddr.ttl=-1")
	two.Started(t)
	two.WaitLog(t, 30*time.Second, "Replication member added")
	one.WaitLog(t, 30*time.Second, "Replication member added")
	if got := membership(); got.Status != probes.Pass || !strings.Contains(got.Summary, "gives 1 members") || !strings.Contains(got.Summary, "10.99.0.2:4000") {
		t.Errorf("tomcat.membership = %s %q (%s); want pass naming 10.99.0.2:4000", got.Status, got.Summary, got.Detail)
	}
	// A Tomcat that is not running: its setenv.sh's export is what its start will have.
	stopped := t.TempDir()
	files := conf.files()
	files["bin/setenv.sh"] = "LOCAL_ONLY=x\nexport DNS_MEMBERSHIP_SERVICE_NAME=tomcat.lab\n"
	writeTree(t, stopped, files)
	view := wasView(t, a, "was1")
	view.Binds = map[string]string{"/etc/resolv.conf": resolv}
	rep, _ := preflightJSON(t, a, view, "--skip", "ntp.sync", "--tomcat", stopped, "--tomcat-home", lab.TomcatHome)
	if got := check(t, rep, "tomcat.membership"); got.Status != probes.Pass || !strings.Contains(got.Summary, "tomcat.lab (DNS_MEMBERSHIP_SERVICE_NAME)") {
		t.Errorf("tomcat.membership of a stopped Tomcat whose setenv.sh exports the name = %s %q; want pass", got.Status, got.Summary)
	}
	if got := membershipOn(b); got.Status != probes.Warn || !strings.Contains(got.Summary, "keeps tomcat.lab's addresses forever (-Dsun.net.inetaddr.ttl=-1") {
		t.Errorf("tomcat.membership on was2 = %s %q; want a warning that its JVM caches the name forever", got.Status, got.Summary)
	}
}
