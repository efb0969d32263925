package firewall

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/firewalld"
)

// services is a fake View for the decision logic only; the real firewalld is in the
// end-to-end tests.
type services map[string]*firewalld.Service

func (s services) Zone(string) (*firewalld.Zone, error) { return nil, fmt.Errorf("not used") }
func (s services) Service(name string) (*firewalld.Service, error) {
	if sv, ok := s[name]; ok {
		return sv, nil
	}
	return nil, fmt.Errorf("INVALID_SERVICE: %s", name)
}

var (
	group      = netip.MustParseAddr("228.0.0.4")
	membership = Need{Lo: 45564, Hi: 45564, Proto: "udp", Dst: group, FromPeers: true}
	receivers  = Need{Lo: 4000, Hi: 4100, Proto: "tcp", FromPeers: true}
	ajp        = Need{Lo: 8009, Hi: 8009, Proto: "tcp"}
	igmp       = IGMP{}.Need()
	cluster    = netip.MustParsePrefix("10.0.0.0/24")
)

func pp(port, proto string) firewalld.PortProto { return firewalld.PortProto{Port: port, Proto: proto} }

func TestDecide(t *testing.T) {
	svc := services{
		"tomcat":   {Ports: []firewalld.PortProto{pp("4000-4050", "tcp")}, Includes: []string{"tomcat2"}},
		"tomcat2":  {Ports: []firewalld.PortProto{pp("4051-4100", "tcp")}, Includes: []string{"tomcat"}}, // a loop
		"mcast-lo": {Ports: []firewalld.PortProto{pp("45564", "udp")}, Destination: map[string]string{"ipv4": "239.0.0.0/8"}},
		"mcast":    {Ports: []firewalld.PortProto{pp("45564", "udp")}, Destination: map[string]string{"ipv4": "224.0.0.0/4"}},
		"alludp":   {Protocols: []string{"udp"}},
		"ssh":      {Ports: []firewalld.PortProto{pp("22", "tcp")}},
		"igmp":     {Protocols: []string{"igmp"}},
	}
	for _, tc := range []struct {
		name string
		zone firewalld.Zone
		need Need
		open bool
		says string
	}{
		{"nothing", firewalld.Zone{Name: "public", Target: "default"}, membership, false, "does not allow"},
		{"range inside a larger one", firewalld.Zone{Ports: []firewalld.PortProto{pp("4000-4200", "tcp")}}, receivers, true, "port 4000-4200/tcp"},
		{"two ranges together", firewalld.Zone{Ports: []firewalld.PortProto{pp("4000-4049", "tcp"), pp("4050-4100", "tcp")}}, receivers, true, ""},
		{"part of the range", firewalld.Zone{Ports: []firewalld.PortProto{pp("4000-4099", "tcp")}}, receivers, false, "only part"},
		{"other protocol", firewalld.Zone{Ports: []firewalld.PortProto{pp("45564", "tcp")}}, membership, false, ""},
		{"service with a looping include", firewalld.Zone{Services: []string{"ssh", "tomcat"}}, receivers, true, "zone public: service tomcat"},
		{"service limited to another destination", firewalld.Zone{Services: []string{"mcast-lo"}}, membership, false, ""},
		{"service limited to 224/4", firewalld.Zone{Services: []string{"mcast"}}, membership, true, ""},
		{"service allowing all udp", firewalld.Zone{Services: []string{"alludp"}}, membership, true, "protocol udp"},
		{"zone protocol", firewalld.Zone{Protocols: []string{"udp"}}, membership, true, ""},
		{"target ACCEPT", firewalld.Zone{Name: "trusted", Target: "ACCEPT"}, receivers, true, "target ACCEPT"},
		{"reject rule over an open port", firewalld.Zone{Ports: []firewalld.PortProto{pp("45564", "udp")},
			Rules: []string{`rule family="ipv4" port port="45564" protocol="udp" reject`}}, membership, false, "rejects"},
		{"drop rule on part of a range", firewalld.Zone{Ports: []firewalld.PortProto{pp("4000-4100", "tcp")},
			Rules: []string{`rule port port="4050" protocol="tcp" drop`}}, receivers, false, "drops"},
		{"negative-priority accept before a reject", firewalld.Zone{
			Rules: []string{`rule priority="-10" port port="45564" protocol="udp" accept`, `rule port port="45564" protocol="udp" reject`}}, membership, true, "accept"},
		{"rich accept", firewalld.Zone{Rules: []string{`rule family="ipv4" destination address="224.0.0.0/4" port port="45564" protocol="udp" accept`}}, membership, true, ""},
		{"rich accept for another destination", firewalld.Zone{Rules: []string{`rule family="ipv4" destination address="10.0.0.1" port port="45564" protocol="udp" accept`}}, membership, false, ""},
		{"reject for all destinations but the group", firewalld.Zone{Ports: []firewalld.PortProto{pp("45564", "udp")},
			Rules: []string{`rule family="ipv4" destination not address="228.0.0.4" port port="45564" protocol="udp" reject`}}, membership, true, "port 45564/udp"},
		{"reject for all destinations but another", firewalld.Zone{Ports: []firewalld.PortProto{pp("45564", "udp")},
			Rules: []string{`rule family="ipv4" destination not address="239.1.1.1" port port="45564" protocol="udp" reject`}}, membership, false, "rejects"},
		{"accept from a network holding the cluster subnet", firewalld.Zone{Rules: []string{`rule family="ipv4" source address="10.0.0.0/16" port port="45564" protocol="udp" accept`}}, membership, true, "rich rule"},
		{"accept from part of the cluster subnet", firewalld.Zone{Rules: []string{`rule family="ipv4" source address="10.0.0.128/25" port port="45564" protocol="udp" accept`}}, membership, false, "only some of the cluster subnet 10.0.0.0/24"},
		{"accept from another network", firewalld.Zone{Rules: []string{`rule family="ipv4" source address="192.168.1.0/24" port port="45564" protocol="udp" accept`}}, membership, false, "does not allow"},
		{"accept from all but another network", firewalld.Zone{Rules: []string{`rule family="ipv4" source not address="192.168.1.0/24" port port="45564" protocol="udp" accept`}}, membership, true, ""},
		{"accept from one peer", firewalld.Zone{Rules: []string{`rule family="ipv4" source address="10.0.0.7" port port="45564" protocol="udp" accept`}}, membership, false, "only some"},
		{"accept from an ipset", firewalld.Zone{Rules: []string{`rule family="ipv4" source ipset="peers" port port="45564" protocol="udp" accept`}}, membership, false, "only some"},
		{"reject from the cluster subnet over an open port", firewalld.Zone{Ports: []firewalld.PortProto{pp("45564", "udp")},
			Rules: []string{`rule family="ipv4" source address="10.0.0.0/24" port port="45564" protocol="udp" reject`}}, membership, false, "rejects it"},
		{"reject from another network over an open port", firewalld.Zone{Ports: []firewalld.PortProto{pp("45564", "udp")},
			Rules: []string{`rule family="ipv4" source address="192.168.1.0/24" port port="45564" protocol="udp" reject`}}, membership, true, "port 45564/udp"},
		{"negative-priority drop for part of the subnet", firewalld.Zone{Ports: []firewalld.PortProto{pp("45564", "udp")},
			Rules: []string{`rule priority="-5" family="ipv4" source address="10.0.0.0/25" port port="45564" protocol="udp" drop`}}, membership, false, "drops it in part"},
		{"source-limited accept for part of the range, a port for the rest", firewalld.Zone{Ports: []firewalld.PortProto{pp("4051-4100", "tcp")},
			Rules: []string{`rule family="ipv4" source address="10.0.0.0/24" port port="4000-4050" protocol="tcp" accept`}}, receivers, true, "rich rule"},
		{"service rich rule from the cluster subnet", firewalld.Zone{
			Rules: []string{`rule family="ipv4" source address="10.0.0.0/24" service name="tomcat" accept`}}, receivers, true, "rich rule"},
		{"AJP from the web server only", firewalld.Zone{Rules: []string{`rule family="ipv4" source address="192.168.5.10" port port="8009" protocol="tcp" accept`}}, ajp, true, "rich rule"},
		{"AJP open, everyone but the web server rejected", firewalld.Zone{Ports: []firewalld.PortProto{pp("8009", "tcp")},
			Rules: []string{`rule family="ipv4" source not address="192.168.5.10" port port="8009" protocol="tcp" reject`}}, ajp, true, "port 8009/tcp"},
		{"positive-priority reject after the ports", firewalld.Zone{Ports: []firewalld.PortProto{pp("45564", "udp")},
			Rules: []string{`rule priority="5" port port="45564" protocol="udp" reject`}}, membership, true, ""},
		{"positive-priority reject before the target", firewalld.Zone{Target: "ACCEPT",
			Rules: []string{`rule priority="5" port port="45564" protocol="udp" reject`}}, membership, false, "rejects"},
		{"igmp closed by default", firewalld.Zone{Ports: []firewalld.PortProto{pp("45564", "udp")}}, igmp, false, "does not allow"},
		{"igmp as a zone protocol", firewalld.Zone{Protocols: []string{"igmp"}}, igmp, true, "protocol igmp"},
		{"igmp by a rich rule", firewalld.Zone{Rules: []string{`rule protocol value="igmp" accept`}}, igmp, true, "rich rule"},
		{"igmp by a service", firewalld.Zone{Services: []string{"igmp"}}, igmp, true, ""},
		{"a rule without a match element rejects all", firewalld.Zone{Target: "ACCEPT", Rules: []string{`rule priority="32767" reject`}}, igmp, false, "rejects"},
		{"the same rule leaves opened ports open", firewalld.Zone{Target: "ACCEPT", Ports: []firewalld.PortProto{pp("45564", "udp")},
			Rules: []string{`rule priority="32767" reject`}}, membership, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z := tc.zone
			if z.Name == "" {
				z.Name = "public"
			}
			v, err := Decide(svc, &z, tc.need, cluster)
			if err != nil || v.Open != tc.open || !strings.Contains(v.Why, tc.says) {
				t.Errorf("Decide = %+v, %v; want open=%v saying %q", v, err, tc.open, tc.says)
			}
		})
	}
	if _, err := Decide(svc, &firewalld.Zone{Services: []string{"nosuch"}}, membership, cluster); err == nil {
		t.Error("a missing service is an error")
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{`rule family="ipv4" port port="45564" protocol="udp" reject`, `rule priority="-3" protocol value="igmp" accept`, `rule source address="1.2.3.4" drop`, `rule family="ipv4" source not address="10.0.0.0/8" service name="tomcat" accept`, `rule source mac="00:11:22:33:44:55" accept`, `rule port port="4000-x" protocol="tcp" accept`, `"'`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, ok := parseRule(s); ok {
			svc := services{"tomcat": {Ports: []firewalld.PortProto{pp("4000-4100", "tcp")}}}
			for _, n := range []Need{membership, receivers, ajp, igmp} {
				r.reach(svc, n, cluster)
			}
		}
	})
}
