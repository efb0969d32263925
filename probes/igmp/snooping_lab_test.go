package igmp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/igmp"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// TestSnoopingBehindContainers: on a container host, the bridge whose ports lead into the
// containers' network namespaces is the one judged, found through the kernel's namespace
// ids of the veths' other ends, as a Docker or Podman host joins its containers.
func TestSnoopingBehindContainers(t *testing.T) {
	l := lab.New(t)
	host, node, other := l.AddHost("host", 1), l.AddHost("node", 2), l.AddHost("other", 3)
	host.BridgeTo("cbr0", node, "eth1")
	jvm := node.Start(lab.Private{}, "node-jvm", "sleep", "60") // stands in for the container's Tomcat
	lonely := other.Start(lab.Private{}, "other-jvm", "sleep", "60")
	for _, p := range []int{jvm.Process.Pid, lonely.Process.Pid} {
		lab.WaitInNamespace(t, p)
	}

	run := func(nodes ...int) probes.Result {
		var r probes.Result
		err := host.Do(func() error {
			env, err := probes.NewEnv("/")
			if err != nil {
				return err
			}
			defer env.Close()
			r = igmp.SnoopingCheck{Iface: "cl0", Nodes: nodes}.Run(context.Background(), env)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := run(jvm.Process.Pid); r.Status != probes.Pass || !strings.Contains(r.Summary, "bridge cbr0 (it joins the Tomcat of pid") ||
		!strings.Contains(r.Summary, "leaves no gap") {
		t.Errorf("the containers' bridge: %s %q", r.Status, r.Summary)
	}
	// A JVM in a namespace no link of this host leads to has no bridge here.
	if r := run(lonely.Process.Pid); r.Status != probes.Skip {
		t.Errorf("a namespace without a link from here: %s %q; want skip", r.Status, r.Summary)
	}
}
