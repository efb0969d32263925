package lab

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// SSHDPath is OpenSSH's server on Debian (openssh-server); it must be run by its absolute
// path to re-execute itself per connection.
const SSHDPath = "/usr/sbin/sshd"

// SSHKey makes a passphrase-less ed25519 key pair in the lab directory and returns the
// private key's path (the public key is PATH.pub).
func (l *Lab) SSHKey(name string) string {
	l.t.Helper()
	RequireCommands(l.t, "ssh-keygen")
	p := l.Path(name)
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lab", "-f", p).CombinedOutput()
	l.must(err, "ssh-keygen %s: %s", name, out)
	return p
}

// StartSSHD runs a real sshd in the host on its cluster address, port 22, letting in root
// with the key whose public half is authorizedKeys and nothing else: no password, no PAM,
// a host key of its own, a private /run (its privilege separation directory /run/sshd).
// The machine's /etc/ssh is not read. Sessions see the host through priv (its /etc/hosts,
// host name); priv.Env is set in every session (sshd's SetEnv: PATH, say). It skips the
// test without openssh-server. Stop ends it.
func (h *Host) StartSSHD(priv Private, authorizedKeys string) *exec.Cmd {
	l := h.lab
	l.t.Helper()
	if !fileExists(SSHDPath) {
		l.t.Skip("skipped: no " + SSHDPath + " (install openssh-server)")
	}
	hostKey := l.Path("sshd-hostkey-" + h.Name)
	if !fileExists(hostKey) { // a restarted sshd keeps its host key
		hostKey = l.SSHKey("sshd-hostkey-" + h.Name)
	}
	conf := l.WriteFile("sshd-"+h.Name+".conf", fmt.Sprintf(`ListenAddress %s
HostKey %s
PidFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
%s`, h.Addr, hostKey, authorizedKeys, setEnv(priv.Env)))
	priv.NoClock = true
	// A lab host is a server, not this machine's developer account: bash, started by sshd
	// for every command, would source root's ~/.bashrc (pyenv and the like here, 0.8 s a
	// command); a server's root has none of it.
	priv.Setup = append([]string{"mount -t tmpfs lab-sshd-run /run", "mkdir -m 755 /run/sshd",
		"if [ -f /root/.bashrc ]; then mount --bind /dev/null /root/.bashrc; fi"}, priv.Setup...)
	cmd := h.Start(priv, "sshd-"+h.Name, SSHDPath, "-D", "-e", "-f", conf)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var up bool
		h.Do(func() error {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(h.Addr.String(), "22"), time.Second)
			if err == nil {
				c.Close()
				up = true
			}
			return nil
		})
		if up {
			l.requireNoClock(cmd)
			return cmd
		}
	}
	log, _ := os.ReadFile(l.Path("sshd-" + h.Name + ".log"))
	l.t.Fatalf("lab: sshd in %s did not start:\n%s", h.Name, log)
	return nil
}

// setEnv is sshd_config's SetEnv for env, quoted as sshd reads it.
func setEnv(env []string) string {
	if len(env) == 0 {
		return ""
	}
	var q []string
	for _, e := range env {
		q = append(q, `"`+e+`"`)
	}
	return "SetEnv " + strings.Join(q, " ") + "\n"
}

// Stop ends a process the lab started in this host (by its PID), before the test ends.
func (h *Host) Stop(c *exec.Cmd) { stop(c) }

// LoginUser is a user that exists only in the views it is bound into: /etc/passwd,
// /etc/shadow and /etc/group with the user added (uid 4242, shell /bin/sh, a home in the
// lab directory, no password), and /etc/sudoers as given ("" keeps the machine's). Give
// the result as Private.Binds to the sshd that lets the user in.
func (l *Lab) LoginUser(name, sudoers string) map[string]string {
	l.t.Helper()
	home := l.Path("home-" + name)
	l.must(os.MkdirAll(home, 0o755), "mkdir %s", home)
	// sshd reads the authorized keys as the user: let it through the lab's directories.
	for _, d := range []string{l.Dir, filepath.Dir(l.Dir)} {
		l.must(os.Chmod(d, 0o711), "chmod %s", d)
	}
	binds := map[string]string{}
	for file, line := range map[string]string{
		"/etc/passwd": fmt.Sprintf("%s:x:4242:4242:lab:%s:/bin/sh\n", name, home),
		"/etc/shadow": name + ":*:19000:0:99999:7:::\n",
		"/etc/group":  name + ":x:4242:\n",
	} {
		b, err := os.ReadFile(file)
		l.must(err, "read %s", file)
		binds[file] = l.WriteFile(name+"-"+filepath.Base(file), string(b)+line)
	}
	if sudoers != "" {
		p := l.WriteFile(name+"-sudoers", sudoers)
		l.must(os.Chmod(p, 0o440), "chmod %s", p) // sudo refuses a sudoers others can write
		binds["/etc/sudoers"] = p
	}
	return binds
}
