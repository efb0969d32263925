package tomcat

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Content is what an application's sessions are deserialised with on every node: its
// WEB-INF/classes and WEB-INF/lib. Nodes whose content differs fail replication with
// InvalidClassException or a serialVersionUID mismatch, so the cluster compares it. Each
// file is fingerprinted by its CRC-32 and size: a WAR's from its zip directory without
// inflating anything, a directory's by reading the file, so a WAR and its unpacked
// directory give the same fingerprints.
type Content struct {
	// Digest is over every file's path and fingerprint; ClassesDigest over the classes'.
	Digest        string `json:"digest"`
	ClassesDigest string `json:"classesDigest"`
	Files         int    `json:"files"`
	// Libs are the jars of WEB-INF/lib by name; Classes the files of WEB-INF/classes by
	// path, where there are at most MaxListedClasses of them.
	Libs    map[string]string `json:"libs"`
	Classes map[string]string `json:"classes,omitempty"`
	// Incomplete says why not every file was taken (too many, too large).
	Incomplete string `json:"incomplete,omitempty"`
}

// Limits on fingerprinting an application.
const (
	MaxListedClasses = 500
	maxContentFiles  = 100000
	maxContentBytes  = 2 << 30
	classesDir       = "WEB-INF/classes/"
	libDir           = "WEB-INF/lib/"
)

// Content fingerprints the application's classes and libraries.
func (in *Instance) Content(a *App) (*Content, error) {
	if a.DocBase == "" {
		return nil, fmt.Errorf("%s has no docBase", a.Path)
	}
	p := in.env.HostPath(a.DocBase)
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	incomplete := ""
	if st.IsDir() {
		incomplete, err = dirFingerprints(p, files)
	} else {
		incomplete, err = warFingerprints(p, files)
	}
	if err != nil {
		return nil, err
	}
	return summarize(files, incomplete), nil
}

func fingerprint(crc uint32, size uint64) string { return fmt.Sprintf("%08x:%d", crc, size) }

func warFingerprints(war string, files map[string]string) (string, error) {
	z, err := zip.OpenReader(war)
	if err != nil {
		return "", err
	}
	defer z.Close()
	for _, f := range z.File {
		if (!strings.HasPrefix(f.Name, classesDir) && !strings.HasPrefix(f.Name, libDir)) || strings.HasSuffix(f.Name, "/") {
			continue
		}
		if len(files) >= maxContentFiles {
			return fmt.Sprintf("more than %d files", maxContentFiles), nil
		}
		files[f.Name] = fingerprint(f.CRC32, f.UncompressedSize64)
	}
	return "", nil
}

func dirFingerprints(dir string, files map[string]string) (string, error) {
	var read int64
	incomplete := ""
	for _, sub := range []string{classesDir, libDir} {
		root := filepath.Join(dir, filepath.FromSlash(sub))
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !d.Type().IsRegular() {
				return nil // unreadable or not a file: what Tomcat could not load either
			}
			if len(files) >= maxContentFiles || read > maxContentBytes {
				incomplete = fmt.Sprintf("more than %d files or %d bytes", maxContentFiles, int64(maxContentBytes))
				return filepath.SkipAll
			}
			fp, n, ok := fileFingerprint(p, d)
			if !ok {
				return nil
			}
			read += n
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)] = fp
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return incomplete, nil
}

// printed keeps each file's fingerprint with what identifies that version of it (inode,
// size, mtime and ctime: any write changes ctime, which nobody can set), so that the
// agent's preflight every interval reads only the files that changed, not every jar of
// every application again. Bounded by entries, not by what the disk holds.
var printed, _ = lru.New[string, filePrint](maxContentFiles)

type filePrint struct {
	ino, size    uint64
	mtime, ctime int64
	fingerprint  string
}

// fileReads counts the files read to fingerprint them (for the cache's test).
var fileReads atomic.Int64

// fileFingerprint is p's CRC-32 and size, from the cache while p is unchanged; n is the
// bytes read for it (0 from the cache).
func fileFingerprint(p string, d fs.DirEntry) (fp string, n int64, ok bool) {
	info, err := d.Info()
	if err != nil {
		return "", 0, false
	}
	st, _ := info.Sys().(*syscall.Stat_t)
	var key filePrint
	if st != nil {
		key = filePrint{ino: st.Ino, size: uint64(st.Size), mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano()}
		if c, hit := printed.Get(p); hit && c.ino == key.ino && c.size == key.size && c.mtime == key.mtime && c.ctime == key.ctime {
			return c.fingerprint, 0, true
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return "", 0, false
	}
	defer f.Close()
	fileReads.Add(1)
	h := crc32.NewIEEE()
	if n, err = io.Copy(h, f); err != nil {
		return "", 0, false
	}
	fp = fingerprint(h.Sum32(), uint64(n))
	if st != nil {
		key.fingerprint = fp
		printed.Add(p, key)
	}
	return fp, n, true
}

func summarize(files map[string]string, incomplete string) *Content {
	c := &Content{Files: len(files), Libs: map[string]string{}, Incomplete: incomplete}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	all, classes := sha256.New(), sha256.New()
	nClasses := 0
	for _, n := range names {
		line := n + " " + files[n] + "\n"
		io.WriteString(all, line)
		if rest, ok := strings.CutPrefix(n, libDir); ok && !strings.Contains(rest, "/") {
			c.Libs[rest] = files[n]
			continue
		}
		if strings.HasPrefix(n, classesDir) {
			io.WriteString(classes, line)
			nClasses++
		}
	}
	if nClasses <= MaxListedClasses {
		c.Classes = map[string]string{}
		for _, n := range names {
			if rest, ok := strings.CutPrefix(n, classesDir); ok {
				c.Classes[rest] = files[n]
			}
		}
	}
	c.Digest = hex.EncodeToString(all.Sum(nil))[:16]
	c.ClassesDigest = hex.EncodeToString(classes.Sum(nil))[:16]
	return c
}
