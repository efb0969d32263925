package container

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

const id64 = "3f2a1b9c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"

func TestFromCgroup(t *testing.T) {
	for _, c := range []struct{ in, engine, id string }{
		{"0::/machine.slice/libpod-" + id64 + ".scope/container\n", "podman", id64},
		{"12:pids:/libpod_parent/libpod-" + id64 + "\n1:name=systemd:/libpod_parent/libpod-" + id64 + "\n", "podman", id64},
		{"0::/system.slice/docker-" + id64 + ".scope\n", "docker", id64},
		{"11:memory:/docker/" + id64 + "\n", "docker", id64},
		{"0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + id64 + ".scope\n", "containerd", id64},
		{"0::/kubepods/burstable/pod1/crio-" + id64 + ".scope\n", "cri-o", id64},
		{"0::/machine.slice/libpod-conmon-" + id64 + ".scope\n", "", ""}, // conmon's own cgroup
		{"0::/system.slice/tomcat10.service\n", "", ""},
		{"0::/docker/abc\n", "", ""},
		{"", "", ""},
	} {
		engine, id := FromCgroup([]byte(c.in))
		if engine != c.engine || id != c.id {
			t.Errorf("FromCgroup(%q) = %q, %q; want %q, %q", c.in, engine, id, c.engine, c.id)
		}
	}
}

func TestConmonName(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"/usr/bin/conmon", "--api-version", "1", "-c", id64, "-u", id64, "-r", "/usr/sbin/runc", "-n", "tc1", "--exit-dir", "/x"}, "tc1"},
		{[]string{"conmon", "--name=tc2"}, "tc2"},
		{[]string{"conmon", "--name", "tc3"}, "tc3"},
		{[]string{"conmon", "-n"}, ""},
		{[]string{"conmon"}, ""},
	} {
		if got := ConmonName(c.args); got != c.want {
			t.Errorf("ConmonName(%q) = %q; want %q", c.args, got, c.want)
		}
	}
}

func TestLabelAndMatches(t *testing.T) {
	pod := Identity{PID: 4242, NetNS: "net:[1]", Engine: "podman", ID: id64, Name: "tc1"}
	anon := Identity{PID: 4243, NetNS: "net:[2]", Engine: "docker", ID: id64}
	ns := Identity{PID: 4244, NetNS: "net:[3]", Netns: "was1"}
	bare := Identity{PID: 4245, NetNS: "net:[4]"}
	for _, c := range []struct {
		id   Identity
		want string
	}{
		{pod, "podman container tc1"},
		{anon, "docker container 3f2a1b9c4d5e"},
		{ns, "network namespace was1"},
		{bare, "pid 4245 in net:[4]"},
	} {
		if got := c.id.Label(); got != c.want {
			t.Errorf("%+v.Label() = %q; want %q", c.id, got, c.want)
		}
	}
	for _, c := range []struct {
		id   Identity
		v    string
		want bool
	}{
		{pod, "tc1", true}, {pod, "3f2a", true}, {pod, "3f2", false}, {pod, "4242", true}, {pod, "tc", false},
		{ns, "was1", true}, {ns, "", false}, {bare, "4245", true}, {bare, "net:[4]", false},
	} {
		if got := c.id.Matches(c.v); got != c.want {
			t.Errorf("%s.Matches(%q) = %v; want %v", c.id.Label(), c.v, got, c.want)
		}
	}
}

// TestStartInJoinsTheNode: a command started in a lab host's namespaces sees that host's
// network namespace and host name, the caller stays in its own, and Identify names the
// namespace as ip netns does.
func TestStartInJoinsTheNode(t *testing.T) {
	l := lab.New(t)
	h := l.AddHost("node", 1)
	sleeper := h.Start(lab.Private{Hostname: "tcnode1"}, "sleeper", "sleep", "60")
	pid := sleeper.Process.Pid
	want, err := waitNetns(pid, h.Namespace())
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.Readlink("/proc/self/ns/net")
	hostBefore, _ := os.Hostname()

	var out bytes.Buffer
	cmd := exec.Command("sh", "-c", "readlink /proc/self/ns/net; hostname; ip -br addr show cl0")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := StartIn(pid, cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || lines[0] != want || lines[1] != "tcnode1" || !strings.Contains(lines[2], h.Addr.String()) {
		t.Errorf("in pid %d's namespaces: %q; want %s, tcnode1 and cl0 with %s", pid, lines, want, h.Addr)
	}
	// Every thread of this process is still in the original namespaces.
	for i := 0; i < 20; i++ {
		if now, _ := os.Readlink("/proc/thread-self/ns/net"); now != before {
			t.Fatalf("a thread of the caller stayed in %s (was %s)", now, before)
		}
		if now, _ := os.Hostname(); now != hostBefore {
			t.Fatalf("the caller's host name is %q (was %q)", now, hostBefore)
		}
	}

	env := &probes.Env{Root: "/"}
	id := Identify(env, pid, want)
	if id.Netns != h.Namespace() || id.Engine != "" || id.Label() != "network namespace "+h.Namespace() {
		t.Errorf("Identify(pid %d) = %+v; want the namespace %s", pid, id, h.Namespace())
	}

	if err := StartIn(999999999, exec.Command("true")); err == nil || !strings.Contains(err.Error(), "pid 999999999") {
		t.Errorf("StartIn(a pid that does not exist) = %v; want an error naming it", err)
	}
}

// waitNetns waits until pid runs in the lab namespace (ip netns exec has entered it).
func waitNetns(pid int, name string) (string, error) {
	var st1, st2 os.FileInfo
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
		st1, _ = os.Stat(fmt.Sprintf("/proc/%d/ns/net", pid))
		st2, _ = os.Stat("/run/netns/" + name)
		if err == nil && st1 != nil && st2 != nil && os.SameFile(st1, st2) {
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(b)) == "sleep" {
				return ns, nil
			}
		}
	}
	return "", fmt.Errorf("pid %d never ran sleep in namespace %s", pid, name)
}

func TestPublisher(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"/usr/bin/conmon", "--api-version", "1", "-c", id64, "-n", "tc1"}, "podman container tc1"},
		{[]string{"/usr/bin/docker-proxy", "-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "8080", "-container-ip", "172.17.0.2", "-container-port", "8080"}, "docker container at 172.17.0.2"},
		{[]string{"/usr/sbin/nginx"}, ""},
	} {
		if got := publisher(c.args); got != c.want {
			t.Errorf("publisher(%q) = %q; want %q", c.args, got, c.want)
		}
	}
}
