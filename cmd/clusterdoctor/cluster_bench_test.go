package main_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/cluster"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// BenchmarkCluster times `cluster` over ssh on the lab's healthy cluster (two real Tomcat
// 10.1 and a web host with httpd and mod_jk: preflight everywhere, the mesh, members and
// session-test) against the example Ansible playbook running preflight and mcast-test on
// the same hosts, in the same run, and reports the ratio and the seat's peak RSS (ssh
// clients included): first with clusterdoctor on one host only (copied to the two others
// for the run), then installed on all three as the playbook needs it; then with seven more
// hosts (sshd only, no Tomcat, each getting a copy) for ten.
//
//	go test -run '^$' -bench BenchmarkCluster -benchtime 3x ./cmd/clusterdoctor  (bench/cluster.sh)
func BenchmarkCluster(b *testing.B) {
	lab.RequireRoot(b)
	lab.RequireCommands(b, "ansible-playbook", "ssh")
	lab.RequireTomcat(b)
	lab.RequireWebServers(b)
	c := newClusterSeat(b, newWebCluster(b))
	ini := c.inventory("ini")
	// The seat is a host of its own (an operator's laptop): every host is reached over
	// ssh, and the seat's peak RSS is clusterdoctor's and its ssh clients', no host's.
	webSSHD := c.web.StartSSHD(c.tier.View(), c.key+".pub")
	ctl := c.lab.AddHost("ctl", 20)
	seat := func(args ...string) (time.Duration, int64) {
		b.Helper()
		argv := append([]string{"cluster", "-o", "json", "--skip", "ntp.sync", "--ssh-option", "StrictHostKeyChecking=no",
			"--ssh-option", "UserKnownHostsFile=/dev/null", "--ssh-option", "LogLevel=ERROR"}, args...)
		cmd := ctl.Command(lab.Private{}, binary, argv...)
		start := time.Now()
		out, err := cmd.Output()
		if err != nil && cmd.ProcessState.ExitCode() > 1 {
			b.Fatalf("cluster: %v\n%s", err, out)
		}
		var rep cluster.Report
		if err := json.Unmarshal(out, &rep); err != nil {
			b.Fatalf("cluster: not JSON: %v\n%s", err, out)
		}
		var slow []string
		for _, h := range rep.Hosts {
			slow = append(slow, fmt.Sprintf("%s %v", h.Name, h.TimingsMs))
		}
		b.Logf("%d hosts in %d ms, %d findings; per host (ms): %s", len(rep.Hosts), rep.DurationMs, len(rep.Findings()), strings.Join(slow, "; "))
		return time.Since(start), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	}
	var clusterWall time.Duration
	b.Run("3 hosts", func(b *testing.B) {
		var rss int64
		for b.Loop() {
			d, r := seat("-i", ini, "--url", "http://10.99.0.10/")
			clusterWall += d
			rss = max(rss, r)
		}
		b.ReportMetric(float64(rss)/1024, "seat-MB")
	})
	// As the playbook needs it: clusterdoctor installed on every host (on the sessions'
	// PATH), so nothing is copied.
	same := c.env["tomcat2"]
	c.env["tomcat1"] = same
	c.was["tomcat1"].Stop(c.sshd["tomcat1"])
	c.startSSHD("tomcat1", c.key+".pub")
	c.web.Stop(webSSHD)
	webView := c.tier.View()
	webView.Env = same
	c.web.StartSSHD(webView, c.key+".pub")
	b.Run("3 hosts installed", func(b *testing.B) {
		for b.Loop() {
			seat("-i", ini, "--url", "http://10.99.0.10/")
		}
	})
	playbook := c.lab.WriteFile("ansible.ini", fmt.Sprintf("[tomcat]\n10.99.0.1\n10.99.0.2\n\n"+
		"[tomcat:vars]\nansible_user=root\nansible_become_method=su\nansible_ssh_private_key_file=%s\nclusterdoctor_bin=%s\n", c.key, binary))
	home := c.lab.Path("ansible-home")
	b.Run("ansible playbook", func(b *testing.B) {
		var wall time.Duration
		n := 0
		for b.Loop() {
			cmd := ctl.Command(lab.Private{Env: []string{
				"HOME=" + home, "ANSIBLE_HOME=" + home + "/.ansible", "ANSIBLE_LOCAL_TEMP=" + home + "/tmp",
				"ANSIBLE_REMOTE_TMP=" + c.lab.Dir + "/remote-tmp", "ANSIBLE_NOCOLOR=1",
				"ANSIBLE_SSH_ARGS=-F /dev/null -o ControlMaster=no -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR",
			}}, "ansible-playbook", "-i", playbook, "../../packaging/examples/ansible/clusterdoctor.yml", "-e", "clusterdoctor_reports="+c.lab.Path("reports"))
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(string(out), "found a problem") {
				b.Fatalf("ansible-playbook: %v\n%s", err, out)
			}
			wall += time.Since(start)
			n++
		}
		b.ReportMetric(wall.Seconds()/float64(n), "s/playbook")
	})
	extra := ""
	for i := 3; i <= 9; i++ {
		name := fmt.Sprintf("node%d", i)
		h := c.lab.AddHost(name, byte(i))
		h.AddMulticastRoute()
		h.StartSSHD(lab.Private{Hosts: hostsFor(name, h.Addr.String()), Hostname: name}, c.key+".pub")
		extra += fmt.Sprintf("%s ansible_host=%s\n", name, h.Addr)
	}
	ten := c.lab.WriteFile("inventory-10.ini", fmt.Sprintf("[web]\nweb ansible_host=10.99.0.10\n[was]\nwas1 ansible_host=10.99.0.1\n"+
		"was2 ansible_host=10.99.0.2\n%s[all:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\n", extra, c.key))
	b.Run("10 hosts", func(b *testing.B) {
		var rss int64
		for b.Loop() {
			_, r := seat("-i", ten)
			rss = max(rss, r)
		}
		b.ReportMetric(float64(rss)/1024, "seat-MB")
	})
}
