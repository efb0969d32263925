package web

import (
	"net/url"
	"strings"
	"testing"
)

func TestServes(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"/*", "/", true},
		{"/*", "/app/index.jsp", true},
		{"/*.jsp", "/app/index.jsp", true},
		{"/*.jsp", "/app/index.html", false},
		{"/app/*", "/app", false},
		{"/app/*", "/app/", true},
		{"/app", "/app", true},
		{"/app", "/apps", false},
		{"/a?c", "/abc", true},
		{"/a?c", "/ac", false},
		{"*", "", true},
		{"/*/x/*", "/a/b/x/c", true},
		{"/*a*a*a*a*a*b", "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	} {
		if got := Serves(tc.pattern, tc.path); got != tc.want {
			t.Errorf("Serves(%q, %q) = %v; want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

// TestMembersFor: the balancer that serves a URL is the one whose mount serves its path
// and whose server listens on its port; members it sends nothing are left out.
func TestMembersFor(t *testing.T) {
	m := func(name string, disabled bool) Member { return Member{Name: name, Disabled: disabled} }
	jk := Balancer{Name: "lb", Server: "mod_jk", Mounts: []string{"/app/*"}, Ports: []int{80}, Members: []Member{m("t1", false), m("t2", false), m("t3", true)}}
	ngx := Balancer{Name: "tomcats", Server: "nginx", Ports: []int{8000}, Members: []Member{m("10.0.0.1:8080", false), m("10.0.0.2:8080", false)}}
	one := Balancer{Name: "solo", Server: "mod_jk", Mounts: []string{"/solo/*"}, Members: []Member{m("t1", false), m("t2", true)}}
	for _, tc := range []struct {
		url, want, err string
	}{
		{"http://web/app/login.jsp", "t1,t2", ""},
		{"http://web:8000/", "10.0.0.1:8080,10.0.0.2:8080", ""},
		{"http://web/other", "", "no balancer members"},
		{"https://web/app/", "", "no balancer members"}, // httpd listens on 80 only
		{"http://web/solo/x", "", "has 1 members the balancer sends to"},
	} {
		u, _ := url.Parse(tc.url)
		got, err := MembersFor([]Balancer{jk, ngx, one}, u)
		var names []string
		for _, g := range got {
			names = append(names, g.Name)
		}
		if strings.Join(names, ",") != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("MembersFor(%s) = %v, %v; want %s, %q", tc.url, names, err, tc.want, tc.err)
		}
	}
	ngx.Ports = nil // both could serve port 80
	u, _ := url.Parse("http://web/app/")
	if _, err := MembersFor([]Balancer{jk, ngx}, u); err == nil || !strings.Contains(err.Error(), "could be served by mod_jk lb") {
		t.Errorf("two balancers serving one URL: %v; want an error naming both", err)
	}
}
