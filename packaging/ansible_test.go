package packaging

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// TestAnsiblePlaybook runs the example playbook with Debian's ansible-core from a control
// namespace against two hosts, each a namespace with a real sshd: every host's preflight
// report lands on the control node, and mcast-test runs between them, passing while both
// have their multicast route and failing the play, naming the check, once one has not.
func TestAnsiblePlaybook(t *testing.T) {
	lab.RequireRoot(t)
	lab.RequireCommands(t, "ansible-playbook", "ssh", "go")
	l := lab.New(t)
	bin := filepath.Join(l.Dir, "clusterdoctor")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/clusterdoctor").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	key := l.SSHKey("ansible-key")
	hosts := "127.0.0.1 localhost\n"
	var was []*lab.Host
	for i, name := range []string{"was1", "was2"} {
		h := l.AddHost(name, byte(i+1))
		h.AddMulticastRoute()
		hosts += fmt.Sprintf("%s %s\n", h.Addr, name)
		was = append(was, h)
	}
	inventory := "[tomcat]\n"
	for _, h := range was {
		h.StartSSHD(lab.Private{Hosts: hosts, Hostname: h.Name}, key+".pub")
		inventory += fmt.Sprintf("%s ansible_host=%s\n", h.Name, h.Addr)
	}
	inventory += "\n[tomcat:vars]\nansible_user=root\nansible_become_method=su\nansible_ssh_private_key_file=" + key +
		"\nclusterdoctor_bin=" + bin + "\n"
	inv := l.WriteFile("inventory.ini", inventory)
	ctl := l.AddHost("ctl", 9)

	play := func(reports string) (int, string) {
		t.Helper()
		home := filepath.Join(l.Dir, "home")
		cmd := ctl.Command(lab.Private{Env: []string{
			"HOME=" + home, "ANSIBLE_HOME=" + home + "/.ansible", "ANSIBLE_LOCAL_TEMP=" + home + "/tmp",
			"ANSIBLE_REMOTE_TMP=" + l.Dir + "/remote-tmp", "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0",
			// No control master left running, nothing written to root's ~/.ssh.
			"ANSIBLE_SSH_ARGS=-F /dev/null -o ControlMaster=no -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR",
		}}, "ansible-playbook", "-i", inv, "../packaging/examples/ansible/clusterdoctor.yml", "-e", "clusterdoctor_reports="+reports)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}

	reports := filepath.Join(l.Dir, "reports")
	code, out := play(reports)
	if code != 0 {
		t.Fatalf("ansible-playbook: exit %d\n%s", code, out)
	}
	for _, h := range was {
		b, err := os.ReadFile(filepath.Join(reports, h.Name+".json"))
		if err != nil {
			t.Fatalf("report of %s: %v", h.Name, err)
		}
		var rep struct {
			Host   string `json:"host"`
			Checks []struct{ ID, Status string }
		}
		if err := json.Unmarshal(b, &rep); err != nil || len(rep.Checks) == 0 {
			t.Errorf("report of %s: %v\n%s", h.Name, err, b)
		}
		for _, c := range rep.Checks {
			if (c.ID == "route.multicast" || c.ID == "hosts.peers") && c.Status != "pass" {
				t.Errorf("%s's report: %s %s (every host is given the whole inventory, itself included)", h.Name, c.ID, c.Status)
			}
		}
	}
	for _, want := range []string{"was1 -> was2: ok", "was2 -> was1: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("play output lacks %q:\n%s", want, out)
		}
	}
	for _, self := range []string{"was1 -> was1", "was2 -> was2"} {
		if strings.Contains(out, self) {
			t.Errorf("a host tested itself (%q):\n%s", self, out)
		}
	}

	was[1].DelMulticastRoute()
	code, out = play(filepath.Join(l.Dir, "reports-2"))
	if code == 0 || !strings.Contains(out, "route.multicast: no route") || !strings.Contains(out, "was1 -> was2: multicast-blocked") ||
		!strings.Contains(out, "found a problem") {
		t.Errorf("ansible-playbook with was2 missing its multicast route: exit %d\n%s", code, out)
	}
}
