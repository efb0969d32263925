package remote

import (
	"bytes"
	"fmt"
	"strings"
)

// Unreachable is a host clusterdoctor could not use, in ssh's (or sudo's) own words, with
// what to do.
type Unreachable struct {
	Host   string
	Reason string
	Hint   string
}

func (u *Unreachable) Error() string {
	if u.Hint == "" {
		return u.Host + ": " + u.Reason
	}
	return fmt.Sprintf("%s: %s (%s)", u.Host, u.Reason, u.Hint)
}

// sshHints pairs what ssh says with what to do about it, first match wins.
var sshHints = []struct{ says, hint string }{
	{"Connection refused", "no sshd listens there: start sshd, or give the port (ansible_port, --ssh-option Port=N)"},
	{"Permission denied", "the key was refused: add your public key to the user's authorized_keys (ssh-copy-id), load it into ssh-agent, or name it (ansible_ssh_private_key_file)"},
	{"REMOTE HOST IDENTIFICATION HAS CHANGED", "the host's key changed since it was recorded: if that is expected, ssh-keygen -R HOST"},
	{"Host key verification failed", "the host's key is not in known_hosts: connect once with ssh to check and accept it"},
	{"No route to host", "the address is not reachable from here: check the address (ansible_host) and the network"},
	{"timed out", "nothing answered in time: check the address (ansible_host) and any firewall in between"},
	{"Could not resolve hostname", "the name does not resolve here: give its address (ansible_host)"},
	{"Name or service not known", "the name does not resolve here: give its address (ansible_host)"},
	{"sudo: a password is required", "allow the login user sudo without a password (NOPASSWD), or log in as root"},
}

// unreachable turns a failed ssh (exit 255, or the remote shell's failure) into the host's
// reason: ssh's last line, and a hint where ssh's words are known.
func unreachable(t Target, code int, stderr []byte) *Unreachable {
	reason := lastLine(stderr, fmt.Sprintf("ssh exited %d without a message", code))
	u := &Unreachable{Host: t.Name, Reason: reason}
	for _, h := range sshHints {
		if strings.Contains(string(stderr), h.says) {
			u.Hint = strings.ReplaceAll(h.hint, "HOST", t.Addr())
			break
		}
	}
	return u
}

// lastLine is the last non-blank line of b (ssh puts its reason last), else def.
func lastLine(b []byte, def string) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(string(lines[i])); l != "" {
			return l
		}
	}
	return def
}
