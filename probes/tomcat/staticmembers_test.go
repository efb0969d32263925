package tomcat

import (
	"strings"
	"testing"
)

// TestParseUniqueID: a uniqueId as StaticMember.setUniqueId reads it.
func TestParseUniqueID(t *testing.T) {
	for _, c := range []struct{ in, err string }{
		{"{0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}", ""},
		{"{-128,127,0,0,0,0,0,0,0,0,0,0,0,0,0,+1}", ""},
		{"{1,2,3}", "it has 3 bytes"},
		{"{0, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}", `" 1" is not a byte`},
		{"{128,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}", `"128" is not a byte`},
		{"0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15", `does not start with "{"`},
		{"{0,,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}", ""}, // StringTokenizer skips empty tokens
	} {
		_, err := parseUniqueID(c.in)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("parseUniqueID(%q) = %v; want %q", c.in, err, c.err)
		}
	}
}

func FuzzParseUniqueID(f *testing.F) {
	f.Add("{0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}")
	f.Add("{1,2")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseUniqueID(s)
		if err == nil && len(id) != 16 {
			t.Fatalf("%q: %d bytes accepted", s, len(id))
		}
	})
}

// TestStaticInterceptorWarnings: StaticMembershipInterceptor looks for TcpFailureDetector
// and TcpPingInterceptor among the interceptors listed before it, as Tomcat warns at start.
func TestStaticInterceptorWarnings(t *testing.T) {
	const smi = `<Interceptor className="org.apache.catalina.tribes.group.interceptors.StaticMembershipInterceptor"><Member className="org.apache.catalina.tribes.membership.StaticMember" host="10.0.0.2" port="4000"/></Interceptor>`
	ic := func(simple string) string {
		return `<Interceptor className="org.apache.catalina.tribes.group.interceptors.` + simple + `"/>`
	}
	for _, c := range []struct {
		channel string
		want    []string
	}{
		{ic("TcpPingInterceptor") + ic("TcpFailureDetector") + smi, nil},
		{ic("TcpFailureDetector") + smi + ic("TcpPingInterceptor"), []string{"no TcpPingInterceptor"}},
		{smi + ic("TcpFailureDetector") + ic("TcpPingInterceptor"), []string{"no TcpFailureDetector", "no TcpPingInterceptor"}},
	} {
		in := instanceOf(t, "/srv/t", `<Server><Service><Engine><Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" channelStartOptions="3"><Channel className="org.apache.catalina.tribes.group.GroupChannel">`+c.channel+`</Channel></Cluster></Engine></Service></Server>`, "10.1.20")
		cl, _ := in.Cluster()
		got := staticInterceptorWarnings(in, membershipOf(in, cl))
		if len(got) != len(c.want) {
			t.Errorf("%s: %q; want %q", c.channel, got, c.want)
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: %q; want %q", c.channel, got[i], w)
			}
		}
	}
}

// TestSecurityProperty: java.security's keys, comments left out, the last one winning.
func TestSecurityProperty(t *testing.T) {
	b := []byte("#networkaddress.cache.ttl=-1\nnetworkaddress.cache.negative.ttl=10\n networkaddress.cache.ttl = 60\n")
	if v, line, ok := securityProperty(b, "networkaddress.cache.ttl"); !ok || v != "60" || line != 3 {
		t.Errorf("networkaddress.cache.ttl = %q line %d %v; want 60 at line 3", v, line, ok)
	}
	if _, _, ok := securityProperty([]byte("#networkaddress.cache.ttl=-1\n"), "networkaddress.cache.ttl"); ok {
		t.Error("a commented-out key was taken")
	}
}

// TestCloudDefects: the known defects of cloud membership per release, from the changelogs.
func TestCloudDefects(t *testing.T) {
	for _, c := range []struct {
		version, provider, host string
		fail, warn              string
	}{
		{"10.1.60", "dns", "", "", ""},
		{"9.0.31", "dns", "", "is not known to Tomcat 9.0.31", "DNS cache"},
		{"9.0.31", "org.apache.catalina.tribes.membership.cloud.DNSMembershipProvider", "", "", "DNS cache"},
		{"9.0.45", "dns", "", "", ""},
		{"10.1.36", "kubernetes", "10.0.0.1", "", "bug 69598, fixed in 9.0.101, 10.1.37, 11.0.5"},
		{"10.1.40", "kubernetes", "fd00::1", "bug 69970", ""},
		{"10.1.53", "kubernetes", "fd00::1", "", ""},
		{"9.0.20", "kubernetes", "10.0.0.1", "", "does not start while the API server cannot be reached"},
	} {
		v, _ := ParseVersion(c.version)
		fails, warns := cloudDefects(&Instance{Version: v}, c.provider, map[string]string{"KUBERNETES_SERVICE_HOST": c.host})
		f, w := strings.Join(fails, "|"), strings.Join(warns, "|")
		if c.fail == "" && f != "" || !strings.Contains(f, c.fail) || c.warn == "" && w != "" || !strings.Contains(w, c.warn) {
			t.Errorf("%s %s %s: fails %q warns %q; want %q, %q", c.version, c.provider, c.host, f, w, c.fail, c.warn)
		}
	}
}
