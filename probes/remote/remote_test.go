package remote

import (
	"os/exec"
	"strings"
	"testing"
)

// TestShellLine: the quoted line, run by a real POSIX shell, gives back the arguments.
func TestShellLine(t *testing.T) {
	args := []string{"printf", "%s|", "plain", "with space", "it's", `$HOME`, "`id`", "a\"b", "", "*"}
	out, err := exec.Command("/bin/sh", "-c", shellLine(args)).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(args[2:], "|") + "|"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestParseProbe(t *testing.T) {
	if _, ok := parseProbe([]byte("x86_64\n")); ok {
		t.Error("two lines are not a probe's answer")
	}
	p, ok := parseProbe([]byte("aarch64\n1000\nwas1\n/usr/bin/clusterdoctor\nclusterdoctor 1.2.3\nabc\n"))
	if !ok || p.arch != "aarch64" || p.uid != "1000" || p.hostname != "was1" || p.bin != "/usr/bin/clusterdoctor" || p.sum != "abc" || p.version != "1.2.3" {
		t.Errorf("%+v", p)
	}
	if p, _ := parseProbe([]byte("x86_64\n0\nweb\n")); p.bin != "" || p.version != "" {
		t.Errorf("no clusterdoctor on PATH: %+v", p)
	}
	if p, _ := parseProbe([]byte("x86_64\n0\nweb\n/usr/bin/clusterdoctor\nclusterdoctor 1.2.3\n-\n")); p.version != "1.2.3" || p.sum != "" {
		t.Errorf("this release on PATH, its checksum not taken: %+v", p)
	}
	if goarch("aarch64") != "arm64" || goarch("x86_64") != "amd64" {
		t.Error("uname -m is mapped to GOARCH")
	}
}

func TestUnreachable(t *testing.T) {
	tgt := Target{Name: "was2", Address: "10.0.0.2"}
	for _, tc := range []struct{ stderr, reason, hint string }{
		{"ssh: connect to host 10.0.0.2 port 22: Connection refused\r\n", "ssh: connect to host 10.0.0.2 port 22: Connection refused", "no sshd listens"},
		{"Warning: Permanently added '10.0.0.2' (ED25519) to the list of known hosts.\nroot@10.0.0.2: Permission denied (publickey).\n", "root@10.0.0.2: Permission denied (publickey).", "ssh-copy-id"},
		{"@@@@\n@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @\nHost key verification failed.\n", "Host key verification failed.", "ssh-keygen -R 10.0.0.2"},
		{"ssh: connect to host 10.0.0.2 port 22: Connection timed out\n", "ssh: connect to host 10.0.0.2 port 22: Connection timed out", "nothing answered"},
		{"", "ssh exited 255 without a message", ""},
	} {
		u := unreachable(tgt, 255, []byte(tc.stderr))
		if u.Reason != tc.reason || !strings.Contains(u.Hint, tc.hint) || u.Host != "was2" {
			t.Errorf("%q: %+v", tc.stderr, u)
		}
	}
}
