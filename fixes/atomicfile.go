// Package fixes changes the host: each fix is planned, shown (--dry-run), applied,
// verified by re-running its check, and rolled back if a later step fails.
package fixes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// selinuxXattr carries a file's SELinux label; copied so a rewritten file keeps it.
const selinuxXattr = "security.selinux"

// WriteFileAtomic replaces path with data so that a reader, a crash or a full disk never
// sees a half-written file: it writes a temporary file in the same directory, copies the
// mode, owner and SELinux label of the file it replaces (or uses perm for a new one),
// fsyncs it, renames it over path and fsyncs the directory. With backup set, the old
// file is first copied to BackupPath(path) (once: an existing backup is kept, so the
// first original survives repeated runs). Returns the backup path, if one was made.
//
// A symbolic link is kept: its target is what gets rewritten (and backed up beside it),
// as the administrator who made the link expects; a link whose target does not exist is
// refused, saying so. Under a --root, callers resolve links inside it first (Env.HostPath)
// so an absolute link in an image never reaches the running host's files.
func WriteFileAtomic(path string, data []byte, perm os.FileMode, backup bool) (string, error) {
	target, err := followLink(path)
	if err != nil {
		return "", err
	}
	path = target
	dir := filepath.Dir(path)
	like := fileMeta{mode: perm}
	old, err := os.Stat(path)
	switch {
	case err == nil:
		like = metaOf(old, path)
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("stat %s: %w", path, err)
	}
	bak := ""
	if backup && old != nil {
		if bak, err = backupOnce(path, like); err != nil {
			return "", err
		}
	}
	return bak, writeTemp(dir, path, data, like)
}

// followLink returns the file a symbolic link at path names (path itself otherwise).
func followLink(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		dest, _ := os.Readlink(path)
		return "", fmt.Errorf("%s is a symbolic link to %s, which cannot be followed (%w): refusing to replace the link with a file; fix or remove the link", path, dest, cause(err))
	}
	if st, err := os.Stat(target); err == nil && !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is a symbolic link to %s, which is not a regular file: refusing to write it", path, target)
	}
	return target, nil
}

// BackupOnce keeps the original of path before something else rewrites it (NetworkManager
// saving a profile): a copy at BackupPath(path) with its mode, owner and SELinux label,
// made once. Nothing is done when path does not exist. Returns the backup path.
func BackupOnce(path string) (string, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", path, err)
	}
	return backupOnce(path, metaOf(fi, path))
}

// backupOnce copies path to BackupPath(path) with like's metadata unless a backup is
// already there, so the first original survives repeated runs.
func backupOnce(path string, like fileMeta) (string, error) {
	bak := BackupPath(path)
	if _, err := os.Stat(bak); err == nil {
		return bak, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("stat %s: %w", bak, err)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s for its backup: %w", path, err)
	}
	if err := writeTemp(filepath.Dir(path), bak, orig, like); err != nil {
		return "", fmt.Errorf("back up %s: %w", path, err)
	}
	return bak, nil
}

// BackupPath is where WriteFileAtomic keeps the original of path: beside it, hidden
// (DIR/.NAME.clusterdoctor.bak), because loaders that read a whole directory by glob, such
// as ifupdown's "source /etc/network/interfaces.d/*", would read a visible backup as a
// second configuration. Hidden files and the .bak suffix are skipped by all of them.
func BackupPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".clusterdoctor.bak")
}

// fileMeta is what a rewritten file keeps of the one it replaces.
type fileMeta struct {
	mode      os.FileMode
	uid, gid  int
	hasOwner  bool
	labelFrom string // path whose SELinux label to copy, if any
}

func metaOf(fi os.FileInfo, path string) fileMeta {
	m := fileMeta{mode: fi.Mode().Perm(), labelFrom: path}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		m.uid, m.gid, m.hasOwner = int(st.Uid), int(st.Gid), true
	}
	return m
}

// writeTemp writes data to a temporary file in dir with like's mode, owner and label,
// syncs it, renames it to dst and syncs dir.
func writeTemp(dir, dst string, data []byte, like fileMeta) error {
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create a temporary file beside %s: %w", dst, cause(err))
	}
	name := tmp.Name()
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s (as a temporary copy): %w", dst, cause(err))
	}
	if err := tmp.Chmod(like.mode); err != nil {
		return fmt.Errorf("chmod %s (as a temporary copy): %w", dst, cause(err))
	}
	if like.hasOwner {
		if err := tmp.Chown(like.uid, like.gid); err != nil && !errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("chown %s (as a temporary copy): %w", dst, cause(err))
		}
	}
	if like.labelFrom != "" {
		if err := copyLabel(like.labelFrom, name); err != nil {
			return fmt.Errorf("give %s (as a temporary copy) the SELinux label of the file it replaces: %w; nothing was changed (a file with another label may be refused to the daemon that reads it)", dst, err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s (as a temporary copy): %w", dst, cause(err))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s (as a temporary copy): %w", dst, cause(err))
	}
	if err := os.Rename(name, dst); err != nil {
		return fmt.Errorf("rename the temporary copy onto %s: %w", dst, cause(err))
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the rename itself survives a crash
		d.Close()
	}
	return nil
}

// cause drops the path an *os.PathError adds: the messages above name the file the user
// knows, not the temporary one.
func cause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// setxattr is unix.Setxattr; a variable so a test can make the filesystem refuse it.
var setxattr = unix.Setxattr

// copyLabel copies the SELinux label, where the file has one. No label (or a filesystem
// without extended attributes) is nothing to copy; a label that cannot be set is an error.
func copyLabel(from, to string) error {
	buf := make([]byte, 1024)
	n, err := unix.Getxattr(from, selinuxXattr, buf)
	if err != nil || n <= 0 {
		return nil
	}
	if err := setxattr(to, selinuxXattr, buf[:n], 0); err != nil {
		return fmt.Errorf("setxattr %s %q: %w", selinuxXattr, strings.TrimRight(string(buf[:n]), "\x00"), err)
	}
	return nil
}
