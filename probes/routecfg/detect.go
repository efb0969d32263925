package routecfg

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Request is what to look for: the route to Dst on Iface; Force, when set, skips
// detection and uses that backend (--backend).
type Request struct {
	Iface string
	Dst   netip.Prefix
	Force Backend
}

// detector looks for one backend's configuration of the interface: nil when there is
// none, with what it saw appended to found.
type detector func(ctx context.Context, env *probes.Env, req Request, found *[]string) (*Owner, error)

var detectors = map[Backend]detector{
	NetworkManager: detectNetworkManager,
	Ifcfg:          detectIfcfg,
	Netplan:        detectNetplan,
	Networkd:       detectNetworkd,
	Ifupdown:       detectIfupdown,
}

// ErrNotFound is returned by Detect when no configuration owns the interface.
var ErrNotFound = errors.New("no persistent network configuration found for the interface")

// Detect finds the configuration that owns req.Iface, in Backends order (or only
// req.Force). A configuration file that cannot be parsed is an error naming it: the tool
// will not edit, or judge, what it cannot read.
func Detect(ctx context.Context, env *probes.Env, req Request) (*Owner, error) {
	if err := probes.ValidIfaceName(req.Iface); err != nil {
		return nil, fmt.Errorf("interface %q: %w", req.Iface, err)
	}
	order := Backends
	if req.Force != "" {
		order = []Backend{req.Force}
	}
	var found []string
	for _, b := range order {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o, err := detectors[b](ctx, env, req, &found)
		if err != nil {
			return nil, err
		}
		if o != nil {
			o.Backend, o.req = b, req
			o.Found = append(found, o.Found...)
			if req.Force != "" {
				o.Found = append(o.Found, "--backend "+string(b)+": detection skipped")
			}
			return o, nil
		}
	}
	return nil, &NotFoundError{Iface: req.Iface, Looked: found}
}

// NotFoundError says what Detect looked at when nothing owned the interface.
type NotFoundError struct {
	Iface  string
	Looked []string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s: %v (%s); name one with --backend", e.Iface, ErrNotFound, strings.Join(e.Looked, "; "))
}

// Unwrap makes errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// readHost reads a host file under the Env's root.
func readHost(env *probes.Env, path string) ([]byte, error) {
	b, err := env.ReadFile(path, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// readIfExists reads a host file that may be absent: nil, false and no error then.
func readIfExists(env *probes.Env, path string) ([]byte, bool, error) {
	b, err := readHost(env, path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	return b, err == nil, err
}

// listDir lists the regular files of a host directory whose names pass keep, sorted;
// a missing directory is empty.
func listDir(env *probes.Env, dir string, keep func(name string) bool) []string {
	ents, err := os.ReadDir(env.Path(dir))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && keep(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// overlay lists files by name across directories in priority order: the first directory
// holding a name wins (as systemd and netplan resolve /etc over /run over /usr/lib),
// sorted by file name.
func overlay(env *probes.Env, dirs []string, keep func(string) bool) []string {
	seen := map[string]string{}
	for _, d := range dirs {
		for _, p := range listDir(env, d, keep) {
			if _, ok := seen[filepath.Base(p)]; !ok {
				seen[filepath.Base(p)] = p
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = seen[n]
	}
	return out
}

// visible skips hidden files, backups and editor leftovers, as every loader does.
func visible(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	for _, suf := range []string{"~", ".bak", ".orig", ".rej", ".swp", ".tmp", ".rpmnew", ".rpmsave", ".dpkg-old", ".dpkg-new", ".dpkg-dist"} {
		if strings.HasSuffix(name, suf) {
			return false
		}
	}
	return true
}
