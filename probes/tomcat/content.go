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
			f, err := os.Open(p)
			if err != nil {
				return nil
			}
			defer f.Close()
			h := crc32.NewIEEE()
			n, err := io.Copy(h, f)
			if err != nil {
				return nil
			}
			read += n
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)] = fingerprint(h.Sum32(), uint64(n))
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return incomplete, nil
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
