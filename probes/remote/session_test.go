package remote

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeSSH runs the remote command line (ssh's last argument) with this machine's sh, as
// sshd would hand it to a login shell; the control master's -N and -O calls do nothing.
// FAKE_CORRUPT appends a byte to what goes in, as a damaged transfer would. A fake for
// the logic of Connect; the real ssh and sshd run in cmd/clusterdoctor's lab.
const fakeSSH = `#!/bin/sh
for a; do last=$a; done
case " $* " in *" -N "*|*" -O "*) exit 0;; esac
if [ -n "$FAKE_CORRUPT" ]; then { cat; printf x; } | sh -c "$last"; else sh -c "$last"; fi
`

func fakeClient(t *testing.T) (*Client, *Binary) {
	t.Helper()
	dir := t.TempDir()
	ssh := filepath.Join(dir, "ssh")
	bin := filepath.Join(dir, "clusterdoctor-build")
	if err := os.WriteFile(ssh, []byte(fakeSSH), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho clusterdoctor test\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", "/usr/bin:/bin") // no clusterdoctor on the "host"
	t.Setenv("TMPDIR", t.TempDir())
	self := &Binary{Path: bin, Version: "test"}
	c, err := NewClient(self, nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SSH = ssh
	return c, self
}

// TestConnectCopiesAndRemoves: a host without this clusterdoctor gets a copy in a private
// directory, verified, that runs, and is gone after Close.
func TestConnectCopiesAndRemoves(t *testing.T) {
	c, _ := fakeClient(t)
	ctx := context.Background()
	s, err := c.Connect(ctx, Target{Name: "h1", Address: "h1.example"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Staged == "" || !strings.HasPrefix(s.Bin, os.Getenv("TMPDIR")) {
		t.Fatalf("staged %q, bin %q", s.Staged, s.Bin)
	}
	st, err := os.Stat(s.Staged)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("the private directory: %v %v", st, err)
	}
	out, _, code, err := s.Run(ctx, "version")
	if err != nil || code != 0 || strings.TrimSpace(string(out)) != "clusterdoctor test" {
		t.Errorf("the copy ran: %q %d %v", out, code, err)
	}
	dir := s.Staged
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s is still there after Close (%v)", dir, err)
	}
}

// TestConnectRefusesADamagedCopy: a copy whose sha256 is not this binary's is not run,
// says so, and is removed.
func TestConnectRefusesADamagedCopy(t *testing.T) {
	c, _ := fakeClient(t)
	t.Setenv("FAKE_CORRUPT", "1")
	_, err := c.Connect(context.Background(), Target{Name: "h1", Address: "h1.example"})
	var u *Unreachable
	if !errors.As(err, &u) || !strings.Contains(u.Reason, "has sha256") {
		t.Fatalf("got %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "clusterdoctor.*")); len(left) > 0 {
		t.Errorf("the damaged copy was left: %v", left)
	}
}

// TestConnectUsesTheHostsOwn: a host whose clusterdoctor on PATH is this release is run as
// it is; a "dev" build of another content is not trusted by its version, and is copied.
func TestConnectUsesTheHostsOwn(t *testing.T) {
	c, self := fakeClient(t)
	onPath := t.TempDir()
	installed := filepath.Join(onPath, "clusterdoctor")
	t.Setenv("PATH", onPath+":/usr/bin:/bin")
	ctx := context.Background()
	for _, tc := range []struct {
		version, installed string
		copied             bool
	}{
		{"test", "#!/bin/sh\necho clusterdoctor test\n", false},
		{"dev", "#!/bin/sh\necho clusterdoctor dev\n", true},
		{"test", "#!/bin/sh\necho clusterdoctor 0.9\n", true},
	} {
		self.Version = tc.version
		if err := os.WriteFile(installed, []byte(tc.installed), 0o755); err != nil {
			t.Fatal(err)
		}
		s, err := c.Connect(ctx, Target{Name: "h1", Address: "h1.example"})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Staged != ""; got != tc.copied || !tc.copied && s.Bin != installed {
			t.Errorf("this build %s, the host's %q: copied %v (bin %s); want copied %v", tc.version, tc.installed, got, s.Bin, tc.copied)
		}
		s.Close(ctx)
	}
}
