package main_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/replication"
)

// staticConf is a server.xml with a StaticMembershipInterceptor naming the peer at
// peerAddr:peerPort, this node's LocalMember with uniqueId ending in self, TcpPingInterceptor
// and TcpFailureDetector before it as the documentation lists them, and
// channelStartOptions="3" (no multicast) when staticOnly; without staticOnly, no
// LocalMember (with one, McastService cannot start). A node waits 5 s, not 60, for a
// peer's sessions at start.
func staticConf(route string, self int, peerAddr string, peerPort, peerID int, staticOnly bool) string {
	attrs := ""
	if staticOnly {
		attrs = ` channelStartOptions="3"`
	}
	c := tcConf{JvmRoute: route, ClusterAttrs: attrs, Interceptors: []string{
		"org.apache.catalina.tribes.group.interceptors.TcpPingInterceptor",
		"org.apache.catalina.tribes.group.interceptors.TcpFailureDetector",
		"org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor"}}
	local := fmt.Sprintf(`<LocalMember className="org.apache.catalina.tribes.membership.StaticMember" uniqueId="{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,%d}"/>`, self)
	if !staticOnly {
		local = ""
	}
	xml := strings.Replace(c.serverXML(), `expireSessionsOnShutdown="false"`, `expireSessionsOnShutdown="false" stateTransferTimeout="5"`, 1)
	return withStaticMembers(xml, local+fmt.Sprintf(`
              <Member className="org.apache.catalina.tribes.membership.StaticMember" host="%s" port="%d" uniqueId="{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,%d}"/>`, peerAddr, peerPort, peerID))
}

// withStaticMembers adds a StaticMembershipInterceptor holding members after the
// channel's MessageDispatchInterceptor.
func withStaticMembers(xml, members string) string {
	return strings.Replace(xml, `<Interceptor className="org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor"/>`,
		`<Interceptor className="org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor"/>
            <Interceptor className="org.apache.catalina.tribes.group.interceptors.StaticMembershipInterceptor">
              `+members+`
            </Interceptor>`, 1)
}

// TestStaticMembershipAgainstTomcat: two real Tomcat 10.1 with static members. With
// channelStartOptions="3" no heartbeat is sent (members hears none), the members find each
// other and sessions replicate both ways, and tomcat.membership passes with the peer taken
// from the static member. A member entry with the wrong port: Tomcat replicates nothing
// that way and the check fails naming it. Without channelStartOptions, a LocalMember keeps
// McastService, and Tomcat, from starting; without it, heartbeats are really there beside
// the static members, and the check says both run.
func TestStaticMembershipAgainstTomcat(t *testing.T) {
	lab.RequireTomcat(t)
	t.Parallel() // its lab is its own
	l := lab.New(t)
	a, b, obs := l.AddHost("was1", 1), l.AddHost("was2", 2), l.AddHost("obs", 3) // obs runs no Tomcat: it only listens
	for _, h := range []*lab.Host{a, b, obs} {
		h.AddMulticastRoute()
	}
	start := func(h *lab.Host, name, xml string) *lab.Tomcat {
		files := tcConf{}.files()
		files["conf/server.xml"] = xml
		return h.StartTomcat(lab.TomcatSpec{Name: name, Files: files, Hostname: h.Name, Hosts: hostsFor(h.Name, h.Addr.String())})
	}
	pair := func(tag string, portOfTwo int, staticOnly bool) (*lab.Tomcat, *lab.Tomcat) {
		one := start(a, "one-"+tag, staticConf("tomcat1", 1, "10.99.0.2", portOfTwo, 2, staticOnly))
		two := start(b, "two-"+tag, staticConf("tomcat2", 2, "10.99.0.1", 4000, 1, staticOnly))
		one.Started(t)
		two.Started(t)
		two.WaitLog(t, 30*time.Second, "Replication member added")
		return one, two
	}
	sessions := func() (*replication.Report, run) {
		r := execute(t, a.Command(wasView(t, a, "was1"), binary, "session-test", "--url", "http://10.99.0.1:8080/",
			"--member", "http://10.99.0.1:8080", "--member", "http://10.99.0.2:8080", "-o", "json", "--timeout", "30s"))
		var rep replication.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("session-test: exit %d, not JSON: %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
		}
		return &rep, r
	}
	membership := func() (probes.Report, probes.Result) {
		rep, _ := preflightJSON(t, a, wasView(t, a, "was1"), "--skip", "ntp.sync")
		return rep, check(t, rep, "tomcat.membership")
	}

	t.Run("static only", func(t *testing.T) {
		one, two := pair("static", 4000, true)
		defer one.Stop()
		defer two.Stop()
		one.WaitLog(t, 30*time.Second, "Replication member added")
		if heard, _ := membersOn(t, obs, lab.Private{}, "--duration", "2s"); len(heard.Members) != 0 {
			t.Errorf("members heard %d heartbeats with channelStartOptions=3; want none", len(heard.Members))
		}
		// on was1, members says whom Tomcat contacts instead of listening
		if rep, r := membersOn(t, a, wasView(t, a, "was1")); r.code != 0 || rep.Membership != "static" || len(rep.Contacted) != 1 || !strings.Contains(rep.Contacted[0], "10.99.0.2:4000") {
			t.Errorf("members on was1: exit %d, membership %q, contacted %q; want static, 10.99.0.2:4000", r.code, rep.Membership, rep.Contacted)
		}
		if rep, r := sessions(); r.code != 0 {
			t.Errorf("session-test: exit %d; want every direction replicating: %+v", r.code, rep.Pairs)
		}
		rep, got := membership()
		if got.Status != probes.Pass || !strings.Contains(got.Summary, "10.99.0.2:4000") {
			t.Errorf("tomcat.membership = %s %q (%s); want pass with the member accepting TCP", got.Status, got.Summary, got.Detail)
		}
		if rep.Settings.Membership != "static" || strings.Join(rep.Settings.Peers, ",") != "10.99.0.2" {
			t.Errorf("settings: membership %s, peers %v; want static, 10.99.0.2", rep.Settings.Membership, rep.Settings.Peers)
		}
	})

	t.Run("a member at the wrong port", func(t *testing.T) {
		one, two := pair("wrongport", 4999, true)
		defer one.Stop()
		defer two.Stop()
		if rep, r := sessions(); r.code == 0 {
			t.Errorf("session-test: exit 0 with was1's member at port 4999; want a direction that does not replicate: %+v", rep.Pairs)
		}
		if _, got := membership(); got.Status != probes.Fail || !strings.Contains(got.Summary, "10.99.0.2:4999") {
			t.Errorf("tomcat.membership = %s %q; want fail naming 10.99.0.2:4999", got.Status, got.Summary)
		}
	})

	t.Run("a LocalMember while McastService runs", func(t *testing.T) {
		xml := withStaticMembers(tcConf{JvmRoute: "tomcat1"}.serverXML(), `<LocalMember className="org.apache.catalina.tribes.membership.StaticMember" uniqueId="{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,1}"/>
              <Member className="org.apache.catalina.tribes.membership.StaticMember" host="10.99.0.2" port="4000" uniqueId="{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,2}"/>`)
		one := start(a, "one-local", xml)
		defer one.Stop()
		one.WaitLog(t, 90*time.Second, "McastService:Required property [tcpListenPort] is missing", "Tomcat is unable to start")
		cmd := a.Command(wasView(t, a, "was1"), binary, "preflight", "-o", "json", "--skip", "ntp.sync")
		cmd.Env = append(cmd.Environ(), "CATALINA_BASE="+one.Base)
		r := execute(t, cmd)
		var rep probes.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("preflight: exit %d, not JSON: %v\n%s", r.code, err, r.stderr)
		}
		if got := check(t, rep, "tomcat.membership"); got.Status != probes.Fail || !strings.Contains(got.Summary, "Tomcat does not start") {
			t.Errorf("tomcat.membership = %s %q; want fail: Tomcat does not start", got.Status, got.Summary)
		}
	})

	t.Run("static beside multicast", func(t *testing.T) {
		one, two := pair("both", 4000, false)
		defer one.Stop()
		defer two.Stop()
		heard, _ := membersOn(t, obs, lab.Private{}, "--duration", "2s")
		if memberAt(heard, "10.99.0.2") == nil {
			t.Errorf("members heard %+v; want was2's heartbeats (multicast still runs)", heard.Members)
		}
		rep, got := membership()
		if got.Status != probes.Warn || !strings.Contains(got.Summary, "McastService still runs beside the 1 static members") {
			t.Errorf("tomcat.membership = %s %q; want a warning that both run", got.Status, got.Summary)
		}
		if rep.Settings.Membership != "multicast" || strings.Join(rep.Settings.Peers, ",") != "10.99.0.2" {
			t.Errorf("settings: membership %s, peers %v; want multicast, the static member as a peer", rep.Settings.Membership, rep.Settings.Peers)
		}
	})
}
