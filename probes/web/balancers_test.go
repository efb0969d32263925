package web

import "testing"

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
