package tomcat

import (
	"net/netip"
	"strings"
	"testing"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
)

// TestIgnoredClusterElements: what Tomcat's digester matches no rule for, per release.
func TestIgnoredClusterElements(t *testing.T) {
	server := func(engine string) string {
		return `<Server><Service name="Catalina"><Engine name="Catalina">` + engine + `</Engine></Service></Server>`
	}
	cases := []struct {
		name, xml, version string
		want               []string // "PATH|belongs" of each ignored element
	}{
		{"the how-to's block", server(`<Cluster><Manager/><Channel><Membership/><Receiver/><Sender><Transport/></Sender><Interceptor/></Channel><Valve/><ClusterListener/></Cluster>`), "10.1.20", nil},
		{"an Interceptor directly under Cluster", server(`<Cluster><Channel/><Interceptor className="org.apache.catalina.tribes.group.interceptors.EncryptInterceptor"/></Cluster>`), "10.1.20",
			[]string{"Server/Service/Engine/Cluster/Interceptor|inside <Channel>"}},
		{"what is inside an ignored element is not named", server(`<Cluster><Membership><Member/></Membership></Cluster>`), "10.1.20",
			[]string{"Server/Service/Engine/Cluster/Membership|inside <Channel>"}},
		{"lower case", server(`<Cluster><Channel><interceptor/></Channel></Cluster>`), "9.0.80",
			[]string{"Server/Service/Engine/Cluster/Channel/interceptor|spelt <Interceptor>, inside <Channel>"}},
		{"StaticMembershipService's members from 9.0.11", server(`<Cluster><Channel><Membership><Member/><LocalMember/></Membership></Channel></Cluster>`), "9.0.11", nil},
		{"not in 8.5", server(`<Cluster><Channel><Membership><Member/></Membership></Channel></Cluster>`), "8.5.100",
			[]string{"Server/Service/Engine/Cluster/Channel/Membership/Member|inside <Channel><Interceptor>"}},
		{"a Cluster at Service level", `<Server><Service><Cluster/><Engine/></Service></Server>`, "10.1.20",
			[]string{"Server/Service/Cluster|inside <Engine> or <Host>"}},
		{"at Host level", server(`<Host name="localhost"><Cluster><Channel/><Deployer/></Cluster></Host>`), "10.1.20", nil},
		{"a Cluster in a Context", server(`<Host name="localhost"><Context><Cluster/></Context></Host>`), "10.1.20",
			[]string{"Server/Service/Engine/Host/Context/Cluster|inside <Engine> or <Host>"}},
		{"an unknown element", server(`<Cluster><Channel><Reciever/></Channel></Cluster>`), "10.1.20",
			[]string{"Server/Service/Engine/Cluster/Channel/Reciever|"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, err := conf.ParseXML(strings.NewReader(c.xml), "conf/server.xml", nil)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := ParseVersion(c.version)
			in := &Instance{Raw: root, Version: v}
			var got []string
			for _, g := range in.ignoredClusterElements() {
				got = append(got, g.Path+"|"+g.Belongs)
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("ignored = %q; want %q", got, c.want)
			}
		})
	}
}

// TestPortClash: instances of one host clash on a connector or shutdown port, each
// shifted by <Server portOffset> where the release has it.
func TestPortClash(t *testing.T) {
	instance := func(base, server, version string) *Instance { return instanceOf(t, base, server, version) }
	const one = `<Server port="8005"><Service><Connector port="8080"/><Engine name="Catalina"/></Service></Server>`
	cases := []struct {
		name, two, version string
		clash              string
	}{
		{"the same HTTP port", `<Server port="8006"><Service><Connector port="8080"/><Engine/></Service></Server>`, "10.1.20", "port 8080"},
		{"the same shutdown port", `<Server port="8005"><Service><Connector port="8081"/><Engine/></Service></Server>`, "10.1.20", "port 8005: shutdown port of"},
		{"no shutdown port", `<Server port="-1"><Service><Connector port="8081"/><Engine/></Service></Server>`, "10.1.20", ""},
		{"portOffset", `<Server port="8005" portOffset="100"><Service><Connector port="8080"/><Engine/></Service></Server>`, "10.1.20", ""},
		{"portOffset before 9.0.13", `<Server port="8005" portOffset="100"><Service><Connector port="8080"/><Engine/></Service></Server>`, "9.0.12", "port 8005"},
		{"another shutdown address", `<Server port="8005" address="10.0.0.1"><Service><Connector port="8081"/><Engine/></Service></Server>`, "10.1.20", ""},
		{"the shutdown port on another's connector", `<Server port="8080"><Service><Connector port="8081"/><Engine/></Service></Server>`, "10.1.20", "port 8080"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &Found{Instances: []*Instance{instance("/srv/one", one, c.version), instance("/srv/two", c.two, c.version)}}
			r := connectorClash(f)
			switch {
			case c.clash == "" && r != nil:
				t.Errorf("clash: %s", r.Summary)
			case c.clash != "" && (r == nil || !strings.Contains(r.Summary, c.clash)):
				t.Errorf("clash = %v; want one naming %q", r, c.clash)
			}
		})
	}
}

// instanceOf is an instance at base with this server.xml and release, nothing else.
func instanceOf(t *testing.T, base, server, version string) *Instance {
	t.Helper()
	root, err := conf.ParseXML(strings.NewReader(server), base+"/conf/server.xml", nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := conf.NewServer(root)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := ParseVersion(version)
	return &Instance{Base: base, ServerFile: base + "/conf/server.xml", Raw: root, Server: s, Version: v}
}

// TestStateTransferAndGroups: DeltaManager's stateTransferTimeout as waitForSendAllSessions
// reads it, and the multicast ranges heartbeats do not belong in.
func TestStateTransferAndGroups(t *testing.T) {
	for _, c := range []struct{ manager, says string }{
		{`<Manager className="org.apache.catalina.ha.session.DeltaManager"/>`, ""},
		{`<Manager className="org.apache.catalina.ha.session.DeltaManager" stateTransferTimeout="60"/>`, ""},
		{`<Manager className="org.apache.catalina.ha.session.DeltaManager" stateTransferTimeout="-1"/>`, "waits forever"},
		{`<Manager className="org.apache.catalina.ha.session.DeltaManager" stateTransferTimeout="0"/>`, "does not wait"},
		{`<Manager className="org.apache.catalina.ha.session.DeltaManager" stateTransferTimeout="-5"/>`, "does not wait"},
		{`<Manager className="org.apache.catalina.ha.session.BackupManager" stateTransferTimeout="0"/>`, ""},
	} {
		in := instanceOf(t, "/srv/t", `<Server><Service><Engine><Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster">`+c.manager+`</Cluster></Engine></Service></Server>`, "10.1.20")
		cl, _ := in.Cluster()
		if got := stateTransferNote(in, cl); c.says == "" && got != "" || !strings.Contains(got, c.says) {
			t.Errorf("%s: %q; want %q", c.manager, got, c.says)
		}
	}
	for g, reserved := range map[string]bool{"228.0.0.4": false, "239.1.2.3": false, "224.0.0.5": true, "224.0.0.255": true, "224.0.1.1": false, "232.1.1.1": true} {
		if got := reservedGroup(netip.MustParseAddr(g)) != ""; got != reserved {
			t.Errorf("reservedGroup(%s) = %v; want %v", g, got, reserved)
		}
	}
}
