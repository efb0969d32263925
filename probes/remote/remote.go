// Package remote runs clusterdoctor on the cluster's other hosts the way operators and
// Ansible already reach them: the system's OpenSSH client, so ~/.ssh/config, the agent,
// ProxyJump, known_hosts and the operator's keys work as they do for them. BatchMode keeps
// ssh from ever waiting on a prompt. One control master per host (ControlPersist, a socket
// in a private directory) carries every command of a run; it is closed at the end.
//
// Where the host lacks this clusterdoctor (not on PATH, or another build), this binary is
// copied to a private temporary directory there, its checksum verified, and removed when
// the run ends: nothing is installed and nothing is left behind.
//
// Equivalent by hand:
//
//	ssh -o BatchMode=yes HOST 'd=$(mktemp -d) && cat > $d/clusterdoctor' < clusterdoctor
//	ssh -o BatchMode=yes HOST sudo -n $d/clusterdoctor preflight -o json --peer ...
package remote

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"
)

// Target is one host as the seat reaches it.
type Target struct {
	// Name is the host as the operator named it (the inventory's name).
	Name string
	// Address is what ssh connects to (ansible_host), else Name.
	Address string
	User    string
	Port    int
	// Key is an identity file (ansible_ssh_private_key_file).
	Key string
	// Become runs clusterdoctor through sudo -n, as Ansible's become does.
	Become bool
	// Local runs it on this host, without ssh.
	Local bool
}

// Addr is what ssh connects to.
func (t Target) Addr() string {
	if t.Address != "" {
		return t.Address
	}
	return t.Name
}

// Binary is this clusterdoctor: what is copied where a host lacks it.
type Binary struct {
	Path    string
	Version string

	once sync.Once
	sum  string
	err  error
}

// Self is the running binary.
func Self(version string) (*Binary, error) {
	p, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program's file: %w", err)
	}
	return &Binary{Path: p, Version: version}, nil
}

// SHA256 is the binary's checksum in hex, computed once.
func (b *Binary) SHA256() (string, error) {
	b.once.Do(func() {
		f, err := os.Open(b.Path)
		if err != nil {
			b.err = fmt.Errorf("read %s: %w", b.Path, err)
			return
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			b.err = fmt.Errorf("read %s: %w", b.Path, err)
			return
		}
		b.sum = hex.EncodeToString(h.Sum(nil))
	})
	return b.sum, b.err
}

// goarch maps uname -m to Go's GOARCH for the architectures clusterdoctor is built for.
func goarch(machine string) string {
	switch machine {
	case "x86_64", "amd64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	}
	return machine
}

// sameArch says whether this binary runs on a host whose uname -m is machine.
func sameArch(machine string) bool { return goarch(machine) == runtime.GOARCH }

// shellLine quotes argv into one POSIX shell command line, which ssh hands to the remote
// login shell.
func shellLine(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		s, err := syntax.Quote(a, syntax.LangPOSIX)
		if err != nil { // not printable as a POSIX word: cannot happen for our arguments
			s = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = s
	}
	return strings.Join(q, " ")
}
