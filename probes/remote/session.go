package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Client reaches hosts with the system's ssh.
type Client struct {
	// SSH is the ssh program ("ssh" on PATH when empty).
	SSH string
	// Options are more ssh -o options (--ssh-option), given before clusterdoctor's own so
	// that they win.
	Options []string
	// ConnectTimeout bounds each connection's set-up (ssh's ConnectTimeout).
	ConnectTimeout time.Duration
	// Self is the binary copied where a host lacks it.
	Self *Binary

	controlDir string
}

// NewClient makes the private directory the control sockets live in; Close removes it.
func NewClient(self *Binary, options []string, connectTimeout time.Duration) (*Client, error) {
	dir, err := os.MkdirTemp("", "clusterdoctor-ssh-")
	if err != nil {
		return nil, fmt.Errorf("make a directory for ssh's control sockets: %w", err)
	}
	if connectTimeout <= 0 {
		connectTimeout = 10 * time.Second
	}
	return &Client{SSH: "ssh", Options: options, ConnectTimeout: connectTimeout, Self: self, controlDir: dir}, nil
}

// Close removes the control sockets' directory (every session is closed first).
func (c *Client) Close() error { return os.RemoveAll(c.controlDir) }

// Session is one host reached: the clusterdoctor to run there and how.
type Session struct {
	Target Target
	// Hostname is the host's own name (hostname(1)); Arch its uname -m.
	Hostname, Arch string
	// Bin is the clusterdoctor run there; Staged the temporary directory it was copied to
	// (removed by Close), empty when the host has this clusterdoctor already.
	Bin, Staged string
	// Sudo says that commands run through sudo -n.
	Sudo bool

	c *Client
}

// sshArgs are ssh's arguments for t, multiplexed over the control master.
func (c *Client) sshArgs(t Target, extra ...string) []string {
	var a []string
	for _, o := range c.Options {
		a = append(a, "-o", o)
	}
	a = append(a, "-o", "BatchMode=yes", "-o", "ConnectTimeout="+strconv.Itoa(int(c.ConnectTimeout.Seconds()+0.5)),
		"-o", "ControlPath="+filepath.Join(c.controlDir, "%C"))
	if t.User != "" {
		a = append(a, "-l", t.User)
	}
	if t.Port != 0 {
		a = append(a, "-p", strconv.Itoa(t.Port))
	}
	if t.Key != "" {
		a = append(a, "-i", t.Key)
	}
	return append(append(a, extra...), t.Addr())
}

// Connect reaches t: a control master (ssh -f -N), then what the host is and whether it
// has this clusterdoctor; where not, the binary is copied there. An *Unreachable error
// says why a host cannot be used, in ssh's or sudo's own words.
func (c *Client) Connect(ctx context.Context, t Target) (*Session, error) {
	s := &Session{Target: t, c: c}
	if strings.HasPrefix(t.Addr(), "-") || strings.ContainsAny(t.Addr(), " \t\n") {
		return nil, &Unreachable{Host: t.Name, Reason: fmt.Sprintf("%q is not a host name or address", t.Addr())}
	}
	if t.Local {
		return s, s.local()
	}
	if err := c.master(ctx, t); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.Close(context.WithoutCancel(ctx))
		}
	}()
	out, errOut, code, err := s.shell(ctx, probeScript, nil)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, unreachable(t, code, errOut)
	}
	info, good := parseProbe(out)
	if !good {
		return nil, &Unreachable{Host: t.Name, Reason: "the host's shell did not answer uname, id and hostname: " + lastLine(append(out, errOut...), "no output"),
			Hint: "clusterdoctor needs a POSIX shell (/bin/sh) on the host"}
	}
	s.Arch, s.Hostname = info.arch, info.hostname
	if t.Become && info.uid != "0" {
		s.Sudo = true
		if _, errOut, code, err := s.shell(ctx, "sudo -n true", nil); err != nil {
			return nil, err
		} else if code != 0 {
			return nil, &Unreachable{Host: t.Name, Reason: lastLine(errOut, "sudo -n true failed"),
				Hint: "allow " + orDefault(t.User, "the login user") + " sudo without a password (NOPASSWD), or log in as root"}
		}
	}
	sum, err := c.Self.SHA256()
	if err != nil {
		return nil, err
	}
	switch {
	case info.bin != "" && (info.sum == sum || info.version == c.Self.Version && c.Self.Version != "dev"):
		s.Bin = info.bin
	case !sameArch(info.arch):
		return nil, &Unreachable{Host: t.Name, Reason: fmt.Sprintf("the host is %s and has no clusterdoctor %s; this one is built for %s", info.arch, c.Self.Version, runtime.GOARCH),
			Hint: "install the clusterdoctor package there, or run cluster from a host of that architecture"}
	default:
		if err := s.stage(ctx, sum); err != nil {
			return nil, err
		}
	}
	ok = true
	return s, nil
}

// probeScript prints uname -m, the login uid, the host name, and where this host has a
// clusterdoctor on PATH: its path, checksum and version.
const probeScript = `uname -m; id -u; hostname
b=$(command -v clusterdoctor 2>/dev/null) || exit 0
echo "$b"; sha256sum "$b" 2>/dev/null | cut -d' ' -f1; "$b" version 2>/dev/null`

// probeInfo is what probeScript printed.
type probeInfo struct{ arch, uid, hostname, bin, sum, version string }

func parseProbe(out []byte) (probeInfo, bool) {
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(f) < 3 {
		return probeInfo{}, false
	}
	f = append(f, "", "", "")
	return probeInfo{arch: f[0], uid: f[1], hostname: f[2], bin: f[3], sum: f[4], version: strings.TrimPrefix(f[5], "clusterdoctor ")}, true
}

// master starts the control master: authentication happens here, once per host.
func (c *Client) master(ctx context.Context, t Target) error {
	errFile, err := os.CreateTemp(c.controlDir, "master-*.err")
	if err != nil {
		return fmt.Errorf("ssh to %s: %w", t.Name, err)
	}
	defer os.Remove(errFile.Name())
	defer errFile.Close()
	cmd := exec.CommandContext(ctx, c.SSH, c.sshArgs(t, "-f", "-N", "-o", "ControlMaster=yes", "-o", "ControlPersist=120")...)
	// A file, not a pipe: the backgrounded master keeps ssh's stderr open, and Wait would
	// wait for it to close.
	cmd.Stderr = errFile
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fmt.Errorf("run %s: %w", c.SSH, err)
		}
		b, _ := os.ReadFile(errFile.Name())
		return unreachable(t, ee.ExitCode(), b)
	}
	return nil
}

// shell runs a shell script on the host over the control master.
func (s *Session) shell(ctx context.Context, script string, stdin io.Reader, args ...string) (stdout, stderr []byte, code int, err error) {
	line := "exec /bin/sh -c " + shellLine(append([]string{script, "sh"}, args...))
	cmd := exec.CommandContext(ctx, s.c.SSH, append(s.c.sshArgs(s.Target, "-o", "ControlMaster=no"), "--", line)...)
	return run(cmd, stdin)
}

func run(cmd *exec.Cmd, stdin io.Reader) (stdout, stderr []byte, code int, err error) {
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &o, &e, stdin
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return o.Bytes(), e.Bytes(), ee.ExitCode(), nil
	}
	if err != nil {
		return nil, nil, -1, fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	return o.Bytes(), e.Bytes(), 0, nil
}

// Run runs this clusterdoctor on the host with args and returns what it wrote and its exit
// code. ssh's own failures (exit 255) are an *Unreachable error.
func (s *Session) Run(ctx context.Context, args ...string) (stdout, stderr []byte, code int, err error) {
	argv := append([]string{s.Bin}, args...)
	if s.Sudo {
		argv = append([]string{"sudo", "-n", "--"}, argv...)
	}
	var cmd *exec.Cmd
	if s.Target.Local {
		cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
	} else {
		sshArgs := s.c.sshArgs(s.Target, "-o", "ControlMaster=no")
		cmd = exec.CommandContext(ctx, s.c.SSH, append(sshArgs, "--", shellLine(argv))...)
	}
	stdout, stderr, code, err = run(cmd, nil)
	if err == nil && code == 255 && !s.Target.Local && !bytes.HasPrefix(stderr, []byte("clusterdoctor:")) {
		return stdout, stderr, code, unreachable(s.Target, code, stderr)
	}
	return stdout, stderr, code, err
}

// local sets up a session on this host: this binary, through sudo -n where asked and not
// root already.
func (s *Session) local() error {
	s.Bin = s.c.Self.Path
	s.Hostname, _ = os.Hostname()
	s.Sudo = s.Target.Become && os.Geteuid() != 0
	return nil
}

// Close removes what Connect copied and ends the control master. It is safe to call twice.
func (s *Session) Close(ctx context.Context) error {
	if s.Target.Local {
		return nil
	}
	var errs []error
	if s.Staged != "" {
		if _, errOut, code, err := s.shell(ctx, `rm -rf -- "$1"`, nil, s.Staged); err != nil || code != 0 {
			errs = append(errs, fmt.Errorf("remove %s on %s: %v%s", s.Staged, s.Target.Name, err, bytes.TrimSpace(errOut)))
		} else {
			s.Staged = ""
		}
	}
	cmd := exec.CommandContext(ctx, s.c.SSH, s.c.sshArgs(s.Target, "-O", "exit")...)
	cmd.Run() // no master (never started, or gone): nothing to end
	return errors.Join(errs...)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
