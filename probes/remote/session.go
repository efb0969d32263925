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
	// Took are how long Connect's parts took: "ssh" (the connection, the login and what
	// the host is), "copy" (this binary copied there, where it was).
	Took map[string]time.Duration

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

// Connect reaches t: a control master whose first command asks what the host is and whether it
// has this clusterdoctor; where not, the binary is copied there. An *Unreachable error
// says why a host cannot be used, in ssh's or sudo's own words.
func (c *Client) Connect(ctx context.Context, t Target) (*Session, error) {
	s := &Session{Target: t, c: c, Took: map[string]time.Duration{}}
	if strings.HasPrefix(t.Addr(), "-") || strings.ContainsAny(t.Addr(), " \t\n") {
		return nil, &Unreachable{Host: t.Name, Reason: fmt.Sprintf("%q is not a host name or address", t.Addr())}
	}
	if t.Local {
		return s, s.local()
	}
	began := time.Now()
	out, errOut, code, err := c.master(ctx, t, c.Self.Version)
	if err != nil {
		return nil, err
	}
	s.Took["ssh"] = time.Since(began)
	ok := false
	defer func() {
		if !ok {
			s.Close(context.WithoutCancel(ctx))
		}
	}()
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
	release := c.Self.Version != "dev" && c.Self.Version != ""
	if info.bin != "" && release && info.version == c.Self.Version {
		s.Bin = info.bin // this release: its checksum is not needed
		ok = true
		return s, nil
	}
	sum, err := c.Self.SHA256()
	if err != nil {
		return nil, err
	}
	switch {
	case info.bin != "" && info.sum == sum:
		s.Bin = info.bin
	case !sameArch(info.arch):
		return nil, &Unreachable{Host: t.Name, Reason: fmt.Sprintf("the host is %s and has no clusterdoctor %s; this one is built for %s", info.arch, c.Self.Version, runtime.GOARCH),
			Hint: "install the clusterdoctor package there, or run cluster from a host of that architecture"}
	default:
		began := time.Now()
		if err := s.stage(ctx, sum); err != nil {
			return nil, err
		}
		s.Took["copy"] = time.Since(began)
	}
	ok = true
	return s, nil
}

// probeScript prints uname -m, the login uid, the host name, and where this host has a
// clusterdoctor on PATH: its path, its version, and its checksum unless that version is
// this one's release ($1), which needs no other proof (a "dev" build always does).
const probeScript = `uname -m; id -u; hostname
b=$(command -v clusterdoctor 2>/dev/null) || exit 0
v=$("$b" version 2>/dev/null | head -n 1)
echo "$b"; echo "${v:--}"
if [ "$v" = "clusterdoctor $1" ] && [ "$1" != dev ]; then echo -; else sha256sum "$b" 2>/dev/null | cut -d' ' -f1; fi`

// probeInfo is what probeScript printed.
type probeInfo struct{ arch, uid, hostname, bin, version, sum string }

func parseProbe(out []byte) (probeInfo, bool) {
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(f) < 3 {
		return probeInfo{}, false
	}
	f = append(f, "", "", "")
	dash := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "-") }
	return probeInfo{arch: f[0], uid: f[1], hostname: f[2], bin: f[3],
		version: strings.TrimPrefix(dash(f[4]), "clusterdoctor "), sum: dash(f[5])}, true
}

// master starts the control master, which runs the probe as its first command: the
// login happens here, once per host, and the probe needs no connection of its own.
// ControlPersist keeps the master in the background after the command; it lets go of
// the command's output (stdout and stderr are files all the same, so that nothing waits
// on a pipe a background process might hold).
func (c *Client) master(ctx context.Context, t Target, version string) (stdout, stderr []byte, code int, err error) {
	files := make([]*os.File, 2)
	for i := range files {
		f, err := os.CreateTemp(c.controlDir, "master-*.out")
		if err != nil {
			return nil, nil, -1, fmt.Errorf("ssh to %s: %w", t.Name, err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		files[i] = f
	}
	line := "exec /bin/sh -c " + shellLine([]string{probeScript, "sh", version})
	cmd := exec.CommandContext(ctx, c.SSH, append(c.sshArgs(t, "-o", "ControlMaster=yes", "-o", "ControlPersist=120"), "--", line)...)
	cmd.Stdout, cmd.Stderr = files[0], files[1]
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, nil, -1, fmt.Errorf("run %s: %w", c.SSH, err)
	}
	stdout, _ = os.ReadFile(files[0].Name())
	stderr, _ = os.ReadFile(files[1].Name())
	return stdout, stderr, cmd.ProcessState.ExitCode(), nil
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
