package fixes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv("CLUSTERDOCTOR_TEST_WRITE"); spec != "" {
		helperWrite(spec) // helper mode: one WriteFileAtomic in a private mount namespace
		return
	}
	os.Exit(m.Run())
}

func TestWriteNewAndReplace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "route-eth1")
	if bak, err := WriteFileAtomic(p, []byte("one\n"), 0o640, true); err != nil || bak != "" {
		t.Fatalf("new file: bak %q, %v", bak, err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Errorf("new file mode %v; want 0640", st.Mode().Perm())
	}
	os.Chmod(p, 0o600)
	if os.Geteuid() == 0 {
		os.Chown(p, 65534, 65534)
	}
	bak, err := WriteFileAtomic(p, []byte("two\n"), 0o644, true)
	if err != nil || bak != filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".clusterdoctor.bak") {
		t.Fatalf("replace: bak %q, %v", bak, err)
	}
	st, _ := os.Stat(p)
	if b, _ := os.ReadFile(p); string(b) != "two\n" || st.Mode().Perm() != 0o600 {
		t.Errorf("replaced file %q mode %v; want two and the old mode 0600", b, st.Mode().Perm())
	}
	if os.Geteuid() == 0 {
		if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 65534 || sys.Gid != 65534 {
			t.Errorf("owner %d:%d; want the old 65534:65534", sys.Uid, sys.Gid)
		}
	}
	if b, _ := os.ReadFile(bak); string(b) != "one\n" {
		t.Errorf("backup %q; want the original", b)
	}
	WriteFileAtomic(p, []byte("three\n"), 0o644, true)
	if b, _ := os.ReadFile(bak); string(b) != "one\n" {
		t.Errorf("a second run overwrote the first backup: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries; want the file and its backup only", len(entries))
	}
}

// helperResult is what the helper reports back.
type helperResult struct {
	Err      string
	Content  string
	Leftover []string
}

// helperWrite runs inside `unshare --mount`: it mounts a tmpfs (size and ro from the spec),
// writes the original, makes the fault, tries the atomic write and reports.
func helperWrite(spec string) {
	var s struct {
		Dir      string
		Size     string
		ReadOnly bool
		Fill     bool
	}
	json.Unmarshal([]byte(spec), &s)
	res := helperResult{}
	defer func() { json.NewEncoder(os.Stdout).Encode(res) }()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+s.Size, "cdtest", s.Dir).CombinedOutput(); err != nil {
		res.Err = fmt.Sprintf("setup: %v %s", err, out)
		return
	}
	p := filepath.Join(s.Dir, "route-eth1")
	os.WriteFile(p, []byte("ADDRESS0=10.0.0.0\nNETMASK0=255.0.0.0\n"), 0o644)
	if s.Fill {
		os.WriteFile(filepath.Join(s.Dir, "filler"), bytes.Repeat([]byte("x"), 1<<20), 0o644) // fails once full: fine
	}
	if s.ReadOnly {
		exec.Command("mount", "-o", "remount,ro", s.Dir).Run()
	}
	_, err := WriteFileAtomic(p, bytes.Repeat([]byte("ADDRESS1=224.0.0.0\n"), 4096), 0o644, false)
	if err != nil {
		res.Err = err.Error()
	}
	b, _ := os.ReadFile(p)
	res.Content = string(b)
	entries, _ := os.ReadDir(s.Dir)
	for _, e := range entries {
		if e.Name() != "route-eth1" && e.Name() != "filler" {
			res.Leftover = append(res.Leftover, e.Name())
		}
	}
}

func runHelper(t *testing.T, spec map[string]any) helperResult {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root to mount a tmpfs in a private mount namespace")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("skipped: unshare not on PATH (util-linux)")
	}
	spec["Dir"] = t.TempDir()
	b, _ := json.Marshal(spec)
	self, _ := os.Executable()
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", self)
	cmd.Env = append(os.Environ(), "CLUSTERDOCTOR_TEST_WRITE="+string(b))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v %s", err, out)
	}
	var res helperResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	if strings.HasPrefix(res.Err, "setup:") {
		t.Fatal(res.Err)
	}
	return res
}

const original = "ADDRESS0=10.0.0.0\nNETMASK0=255.0.0.0\n"

func TestWriteReadOnlyFilesystem(t *testing.T) {
	res := runHelper(t, map[string]any{"Size": "1m", "ReadOnly": true})
	if !strings.Contains(res.Err, "read-only file system") || res.Content != original || len(res.Leftover) != 0 {
		t.Fatalf("read-only: err %q, content intact %v, leftovers %v; want a read-only error, the original, nothing left",
			res.Err, res.Content == original, res.Leftover)
	}
}

func TestWriteFullFilesystem(t *testing.T) {
	res := runHelper(t, map[string]any{"Size": "64k", "Fill": true})
	if !strings.Contains(res.Err, "no space left on device") || res.Content != original || len(res.Leftover) != 0 {
		t.Fatalf("full: err %q, content intact %v, leftovers %v; want ENOSPC, the original, nothing left",
			res.Err, res.Content == original, res.Leftover)
	}
}

// TestWriteKilledMidway kills a writer of a large file at varying moments: the target is
// always either the original or the complete new content, never a mix or a truncation.
func TestWriteKilledMidway(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "route-eth1")
	newContent := strings.Repeat("ADDRESS1=224.0.0.0\n", 1<<20) // 19 MiB: slow enough to interrupt
	self, _ := os.Executable()
	for i, delay := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond, 80 * time.Millisecond} {
		os.WriteFile(p, []byte(original), 0o644)
		cmd := exec.Command(self, "-test.run=^TestKillTarget$")
		cmd.Env = append(os.Environ(), "CLUSTERDOCTOR_KILL_TARGET="+p)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		cmd.Wait()
		b, _ := os.ReadFile(p)
		if string(b) != original && string(b) != newContent {
			t.Fatalf("run %d (kill after %s): the file is neither the original nor the new content (%d bytes)", i, delay, len(b))
		}
	}
}

// TestKillTarget is the victim of TestWriteKilledMidway; it does nothing when run normally.
func TestKillTarget(t *testing.T) {
	p := os.Getenv("CLUSTERDOCTOR_KILL_TARGET")
	if p == "" {
		t.Skip("helper for TestWriteKilledMidway")
	}
	WriteFileAtomic(p, []byte(strings.Repeat("ADDRESS1=224.0.0.0\n", 1<<20)), 0o644, false)
}

// TestWriteThroughSymlink: a configuration file that is a link (a netplan file kept in a
// repository, ifcfg files linked from /etc/sysconfig/network-scripts) stays a link; its
// target gets the new content and the backup.
func TestWriteThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "repo"), 0o755)
	target := filepath.Join(dir, "repo", "01-cl0.yaml")
	link := filepath.Join(dir, "01-cl0.yaml")
	os.WriteFile(target, []byte("old\n"), 0o600)
	if err := os.Symlink("repo/01-cl0.yaml", link); err != nil {
		t.Fatal(err)
	}
	bak, err := WriteFileAtomic(link, []byte("new\n"), 0o644, true)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new\n" {
		t.Errorf("target holds %q; want the new content", b)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o600 {
		t.Errorf("target mode %v; want its own 0600", fi.Mode().Perm())
	}
	if b, err := os.ReadFile(bak); err != nil || string(b) != "old\n" || filepath.Dir(bak) != filepath.Dir(target) {
		t.Errorf("backup %s: %q %v; want the old content beside the target", bak, b, err)
	}

	dangling := filepath.Join(dir, "gone.yaml")
	os.Symlink("repo/nosuch.yaml", dangling)
	if _, err := WriteFileAtomic(dangling, []byte("x\n"), 0o644, true); err == nil || !strings.Contains(err.Error(), "refusing to replace the link") {
		t.Errorf("dangling link: %v; want a refusal that says why", err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the dangling link was touched: %v", err)
	}
}

// TestSELinuxLabelKeptOrReported: the label of the file replaced is copied to the new one
// (a real security.selinux attribute, which the filesystem stores without SELinux), and a
// filesystem that refuses it makes the write fail with the file untouched.
func TestSELinuxLabelKeptOrReported(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: setting security.* attributes needs root")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "ifcfg-cl0")
	os.WriteFile(p, []byte("old\n"), 0o644)
	label := []byte("system_u:object_r:net_conf_t:s0\x00")
	if err := unix.Setxattr(p, selinuxXattr, label, 0); err != nil {
		t.Skipf("skipped: this filesystem stores no security.selinux attribute: %v", err)
	}
	if _, err := WriteFileAtomic(p, []byte("new\n"), 0o644, false); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	if n, err := unix.Getxattr(p, selinuxXattr, buf); err != nil || !bytes.Equal(buf[:n], label) {
		t.Errorf("label after the write: %q %v; want %q", buf[:max(n, 0)], err, label)
	}

	setxattr = func(string, string, []byte, int) error { return unix.EOPNOTSUPP }
	defer func() { setxattr = unix.Setxattr }()
	_, err := WriteFileAtomic(p, []byte("newer\n"), 0o644, false)
	if err == nil || !strings.Contains(err.Error(), "SELinux label") || !strings.Contains(err.Error(), "net_conf_t") {
		t.Errorf("refused label: %v; want an error naming the label", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new\n" {
		t.Errorf("file holds %q after a refused write; want it unchanged", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries left; want no temporary file", len(entries))
	}
}
