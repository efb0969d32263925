package firewalld

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Files is firewalld's permanent configuration as firewalld reads it at start, for when
// it is installed but not running: /etc/firewalld overrides /usr/lib/firewalld file by
// file. Root is where the host's / is ("/" on a live host).
type Files struct {
	Root string
	// System and Default are firewalld's --system-config and --default-config, where a
	// running firewalld was started with them; empty: /etc/firewalld and
	// /usr/lib/firewalld.
	System, Default string
}

// The configuration directories, most important first.
var configDirs = []string{"/etc/firewalld", "/usr/lib/firewalld"}

// Describe names the directories, most important first ("/etc/firewalld and
// /usr/lib/firewalld").
func (f Files) Describe() string { return strings.Join(f.dirs(), " and ") }

// dirs are this configuration's directories, most important first.
func (f Files) dirs() []string {
	out := append([]string(nil), configDirs...)
	if f.System != "" {
		out[0] = f.System
	}
	if f.Default != "" {
		out[1] = f.Default
	}
	return out
}

// maxFile bounds what is read of one file: zone files are a few hundred bytes.
const maxFile = 1 << 20

// Installed reports whether firewalld's configuration is on the host at all.
func (f Files) Installed() bool {
	for _, d := range f.dirs() {
		if _, err := os.Stat(f.path(filepath.Join(d, "zones"))); err == nil {
			return true
		}
	}
	return false
}

func (f Files) path(p string) string {
	if f.Root == "" || f.Root == "/" {
		return p
	}
	return filepath.Join(f.Root, p)
}

// find returns the file that defines kind/name.xml and its content.
func (f Files) find(kind, name string) (string, []byte, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return "", nil, fmt.Errorf("firewalld %s name %q is not a file name", kind, name)
	}
	for _, d := range f.dirs() {
		p := filepath.Join(d, kind+"s", name+".xml")
		b, err := readLimited(f.path(p))
		if err == nil {
			return p, b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", nil, fmt.Errorf("firewalld %s %s: %w", kind, name, err)
		}
	}
	return "", nil, fmt.Errorf("firewalld %s %s: no %s.xml in %s", kind, name, name, strings.Join(f.dirsOf(kind), " or "))
}

func (f Files) dirsOf(kind string) []string {
	var out []string
	for _, d := range f.dirs() {
		out = append(out, filepath.Join(d, kind+"s"))
	}
	return out
}

func readLimited(p string) ([]byte, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxFile+1))
	if err == nil && len(b) > maxFile {
		err = fmt.Errorf("%s: larger than %d bytes", p, maxFile)
	}
	return b, err
}

// Zone implements View.
func (f Files) Zone(name string) (*Zone, error) {
	p, b, err := f.find("zone", name)
	if err != nil {
		return nil, err
	}
	z, err := ParseZone(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	z.Name = name
	return z, nil
}

// Service implements View.
func (f Files) Service(name string) (*Service, error) {
	p, b, err := f.find("service", name)
	if err != nil {
		return nil, err
	}
	s, err := ParseService(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	s.Name = name
	return s, nil
}

// ZoneNames lists the zones defined in either directory.
func (f Files) ZoneNames() ([]string, error) {
	seen := map[string]bool{}
	for _, d := range f.dirsOf("zone") {
		ents, err := os.ReadDir(f.path(d))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("firewalld zones: %w", err)
		}
		for _, e := range ents {
			if n, ok := strings.CutSuffix(e.Name(), ".xml"); ok && !e.IsDir() {
				seen[n] = true
			}
		}
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// DefaultZone is firewalld.conf's DefaultZone (firewalld's own default: public).
func (f Files) DefaultZone() (string, error) { return f.conf("DefaultZone", "public") }

// Backend is firewalld.conf's FirewallBackend: nftables (firewalld's default since 0.6)
// or iptables, where its rules live in the kernel.
func (f Files) Backend() (string, error) { return f.conf("FirewallBackend", "nftables") }

// conf is one key of firewalld.conf, the first file found in firewalld's order, or def.
func (f Files) conf(key, def string) (string, error) {
	for _, d := range f.dirs() {
		b, err := readLimited(f.path(filepath.Join(d, "firewalld.conf")))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("firewalld.conf: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
			if ok && strings.TrimSpace(k) == key && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v), nil
			}
		}
		break
	}
	return def, nil
}

// Zones reads every zone (for interface and source bindings).
func (f Files) Zones() ([]*Zone, error) {
	names, err := f.ZoneNames()
	if err != nil {
		return nil, err
	}
	var out []*Zone
	for _, n := range names {
		z, err := f.Zone(n)
		if err != nil {
			return nil, err
		}
		out = append(out, z)
	}
	return out, nil
}

// Enabled reports whether systemd starts firewalld at boot (systemctl is-enabled
// firewalld: a firewalld.service link in a .wants directory under /etc/systemd/system).
// A stopped firewalld that is not enabled guards nothing.
func (f Files) Enabled() bool {
	links, _ := filepath.Glob(f.path("/etc/systemd/system/*.wants/firewalld.service"))
	return len(links) > 0
}
