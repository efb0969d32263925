package report

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/cluster"
)

// TestClusterHTML: the page is self-contained (no script, nothing it would fetch), every
// host is drawn with its outcome in words, a host that was not reached says why, the
// cause comes first, and text from the hosts is escaped.
func TestClusterHTML(t *testing.T) {
	rep := &cluster.Report{Version: "test", Hosts: []*cluster.HostReport{
		{Name: "was1", Address: "10.0.0.1", Roles: []string{"was"}, Reachable: true,
			Checks: []probes.Result{{ID: "route.multicast", Status: probes.Fail, Summary: "no route for <228.0.0.4>", Remediation: "clusterdoctor fix route"}}},
		{Name: "was2", Address: "10.0.0.2", Roles: []string{"was"}, Error: "ssh: connect to host 10.0.0.2 port 22: Connection refused"},
		{Name: "web", Address: "10.0.0.10", Roles: []string{"web"}, Reachable: true},
	}}
	rep.Causes, rep.Unexplained = rep.Reduce()
	var b bytes.Buffer
	if err := ClusterHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{} // id -> text inside
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "script" || n.Data == "link" || n.Data == "img" || n.Data == "iframe" {
				t.Errorf("the page has a <%s>", n.Data)
			}
			for _, a := range n.Attr {
				if (a.Key == "src" || a.Key == "href") && !strings.HasPrefix(a.Val, "#") {
					t.Errorf("the page refers to %s", a.Val)
				}
				if a.Key == "id" {
					ids[a.Val] = text(n)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for id, want := range map[string]string{
		"host-was1": "CAUSE: route.multicast", "host-was2": "NOT REACHED", "host-web": "ok",
		"cause-0": "not reached", "cause-1": "route.multicast", "checks-was2": "Connection refused",
	} {
		if got, ok := ids[id]; !ok || !strings.Contains(got, want) {
			t.Errorf("#%s: %q; want it to say %q", id, got, want)
		}
	}
	if strings.Contains(page, "<228.0.0.4>") || !strings.Contains(page, "&lt;228.0.0.4&gt;") {
		t.Errorf("a summary's text is not escaped")
	}
	if strings.Index(page, `id="causes"`) > strings.Index(page, `id="picture"`) {
		t.Errorf("the causes are not first")
	}
}

// text is the text inside n.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
