package web

import (
	"strings"
	"testing"
)

// haproxyBackend is a configuration with one frontend sending to backend tomcats, whose
// lines are given, and two servers with the server parameters given.
func haproxyBackend(lines, s1, s2 string) string {
	return "global\n    maxconn 64\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n" +
		"frontend www\n    bind 10.99.0.10:8092\n    default_backend tomcats\n" +
		"backend tomcats\n" + lines +
		"    server tomcat1 10.99.0.1:8080 " + s1 + "\n    server tomcat2 10.99.0.2:8080 " + s2 + "\n"
}

// TestHAProxyStickiness: each stickiness mode as HAProxy keeps (or does not keep) a
// session on its server; the real HAProxy's behaviour for each is in the e2e test.
func TestHAProxyStickiness(t *testing.T) {
	for _, c := range []struct {
		name, cfg, method string
		sticky            bool
		warn, fail        string
	}{
		{"cookie insert", haproxyBackend("    cookie SERVERID insert indirect nocache\n", "cookie t1", "cookie t2"), "cookie SERVERID insert", true, "", ""},
		{"cookie prefix on JSESSIONID", haproxyBackend("    cookie JSESSIONID prefix nocache\n", "cookie t1", "cookie t2"), "cookie JSESSIONID prefix", true, "", ""},
		{"cookie in defaults", strings.Replace(haproxyBackend("", "cookie t1", "cookie t2"), "    mode http\n", "    mode http\n    cookie SRV insert\n", 1), "cookie SRV insert", true, "", ""},
		{"stick on the session cookie", haproxyBackend("    stick-table type string len 64 size 10k expire 30m\n    stick on req.cook(JSESSIONID)\n", "", ""), "stick on req.cook(JSESSIONID)", true, "", ""},
		{"url_param jsessionid", haproxyBackend("    balance url_param jsessionid\n", "", ""), "url_param jsessionid", true, "", ""},
		{"source", haproxyBackend("    balance source\n", "", ""), "source", false, "balances by source", ""},
		{"round robin", haproxyBackend("    balance roundrobin\n", "", ""), "roundrobin", false, "with no cookie or stick table", ""},
		{"the default", haproxyBackend("", "", ""), "roundrobin (the default)", false, "with no cookie or stick table", ""},
		{"appsession", haproxyBackend("    appsession JSESSIONID len 52 timeout 3h\n", "", ""), "", false, "", "appsession (/etc/haproxy/haproxy.cfg:12) was removed in HAProxy 1.6"},
		{"a server without a cookie", haproxyBackend("    cookie SERVERID insert\n", "cookie t1", "check"), "", false, "", "server tomcat2 has no cookie value"},
		{"a disabled server needs none", haproxyBackend("    cookie SERVERID insert\n", "cookie t1", "disabled"), "cookie SERVERID insert", true, "", ""},
		{"prefix on a cookie Tomcat does not set", haproxyBackend("    cookie SERVERID prefix\n", "cookie t1", "cookie t2"), "", false, "", "Tomcat sets no SERVERID cookie"},
		{"tcp mode: cookies do not apply", strings.Replace(haproxyBackend("    cookie SERVERID insert\n", "cookie t1", "cookie t2"), "mode http", "mode tcp", 1), "roundrobin (the default)", false, "with no cookie or stick table", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := envWith(t, map[string]string{"etc/haproxy/haproxy.cfg": c.cfg})
			cs := loadHAProxy(env)
			if len(cs) != 1 || len(cs[0].problems) > 0 {
				t.Fatalf("loadHAProxy = %+v", cs)
			}
			ups := cs[0].upstreams()
			if len(ups) != 1 || len(ups[0].servers) != 2 {
				t.Fatalf("upstreams = %+v; want backend tomcats with two servers", ups)
			}
			u := ups[0]
			if c.method != "" && u.method != c.method || u.sticky != c.sticky ||
				!strings.Contains(u.warn, c.warn) || c.warn == "" && u.warn != "" ||
				!strings.Contains(u.fail, c.fail) || c.fail == "" && u.fail != "" {
				t.Errorf("backend tomcats: method %q sticky %v warn %q fail %q; want %q %v %q %q", u.method, u.sticky, u.warn, u.fail, c.method, c.sticky, c.warn, c.fail)
			}
		})
	}
}

// TestHAProxyProxies: backends no frontend sends to are not balanced; a listen section
// with servers is; -f directories give their *.cfg files in order.
func TestHAProxyProxies(t *testing.T) {
	env := envWith(t, map[string]string{
		"etc/haproxy/conf.d/10-front.cfg": "frontend www\n    bind :80\n    use_backend app if { path_beg /app }\n",
		"etc/haproxy/conf.d/20-back.cfg":  "backend app\n    server a 10.0.0.1:8080\nbackend unused\n    server b 10.0.0.2:8080\nlisten l\n    bind :81\n    server c 10.0.0.3:8080\n",
		"etc/haproxy/conf.d/notes.txt":    "not read",
	})
	c := readHAProxy(env, []string{"/etc/haproxy/conf.d"})
	var names []string
	for _, u := range c.upstreams() {
		names = append(names, u.name+"@"+u.where)
	}
	if got := strings.Join(names, " "); got != "backend app@/etc/haproxy/conf.d/20-back.cfg:1 listen l@/etc/haproxy/conf.d/20-back.cfg:5" {
		t.Errorf("balanced proxies: %s", got)
	}
}

// statSample is show stat as HAProxy 2.6 answers it (columns cut after lastchg's
// neighbours): a frontend, three servers and the backend.
const statSample = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime\n" +
	"www,FRONTEND,,,0,0,9985,0,0,0,0,0,0,,,,,OPEN,,,,,,,\n" +
	"tomcats,tomcat1,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,120,0\n" +
	"tomcats,tomcat2,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,0,0,7,0\n" +
	"tomcats,tomcat3,0,0,0,0,,0,0,0,,0,,0,0,0,0,\"DOWN 1/2\",1,1,0,1,1,30,30\n" +
	"tomcats,BACKEND,0,0,0,0,,0,0,0,0,0,,0,0,0,0,UP,2,2,0,,0,120,0\n"

func TestParseStat(t *testing.T) {
	got, err := parseStat(strings.NewReader(statSample))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"tomcats/tomcat1": "UP for 2m0s", "tomcats/tomcat2": "MAINT for 7s", "tomcats/tomcat3": "DOWN 1/2 for 30s"}
	if len(got) != len(want) {
		t.Fatalf("parseStat = %v; want %v", got, want)
	}
	for k, v := range want {
		if got[k].String() != v {
			t.Errorf("%s = %q; want %q", k, got[k], v)
		}
	}
	if got["tomcats/tomcat1"].sends() != true || got["tomcats/tomcat2"].sends() || got["tomcats/tomcat3"].sends() {
		t.Errorf("sends: %v", got)
	}
	for _, bad := range []string{"", "Unknown command.\n", "# pxname,svname\nx,y\n"} {
		if _, err := parseStat(strings.NewReader(bad)); err == nil {
			t.Errorf("parseStat(%q) = nil error", bad)
		}
	}
}

// FuzzParseStat: whatever a stats socket answers, parseStat returns states or an error.
func FuzzParseStat(f *testing.F) {
	f.Add(statSample)
	f.Add("# status\nx\n")
	f.Fuzz(func(t *testing.T, in string) {
		parseStat(strings.NewReader(in))
	})
}
