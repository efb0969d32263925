package routecfg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/ifcfg"
	"github.com/clusterdoctor/clusterdoctor/netcfg/ifupdown"
	"github.com/clusterdoctor/clusterdoctor/netcfg/netplan"
	"github.com/clusterdoctor/clusterdoctor/netcfg/networkd"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// IfcfgDir is where initscripts (and NetworkManager's ifcfg-rh plugin) keep interfaces.
const IfcfgDir = "/etc/sysconfig/network-scripts"

// detectIfcfg finds ifcfg-NAME with DEVICE=IFACE (or NAME=IFACE without DEVICE=) and
// edits route-NAME in its own format, creating it in the ip route format if absent.
// Forced, it writes route-IFACE even without an ifcfg file.
func detectIfcfg(_ context.Context, env *probes.Env, req Request, found *[]string) (*Owner, error) {
	name, source := "", ""
	for _, p := range listDir(env, IfcfgDir, func(n string) bool { return strings.HasPrefix(n, "ifcfg-") && visible(n) }) {
		raw, err := readHost(env, p)
		if err != nil {
			return nil, err
		}
		suffix := strings.TrimPrefix(filepath.Base(p), "ifcfg-")
		dev := shellVar(raw, "DEVICE")
		if dev == req.Iface || (dev == "" && suffix == req.Iface) {
			name, source = suffix, p
			if nmc := shellVar(raw, "NM_CONTROLLED"); nmc != "" {
				*found = append(*found, fmt.Sprintf("%s has NM_CONTROLLED=%s", p, nmc))
			}
			break
		}
	}
	if name == "" {
		if req.Force != Ifcfg {
			*found = append(*found, "no ifcfg file in "+IfcfgDir+" for "+req.Iface)
			return nil, nil
		}
		name = req.Iface
	}
	file := IfcfgDir + "/route-" + name
	o := &Owner{Found: []string{fmt.Sprintf("ifcfg-%s configures %s; its routes live in %s", name, req.Iface, file)}, Where: file, Source: source}
	old, _, err := readIfExists(env, file)
	if err != nil {
		return nil, err
	}
	rf, err := ifcfg.Parse(bytes.NewReader(old))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if dead, gap, ok := rf.Dead(req.Dst, req.Iface); ok {
		o.Dead = fmt.Sprintf("%s has it as ADDRESS%d, but ifup-routes and NetworkManager stop at the missing ADDRESS%d: it is never applied", file, dead.Index, gap)
	}
	revived, err := rf.AddRoute(req.Dst, req.Iface)
	switch {
	case errors.Is(err, ifcfg.ErrExists):
		o.Present = true
	case err != nil:
		return nil, fmt.Errorf("%s: %w", file, err)
	default:
		var b bytes.Buffer
		rf.Write(&b)
		o.Edit = &Edit{Path: file, Old: old, New: b.Bytes(), Perm: 0o644}
		if old != nil {
			o.Found = append(o.Found, fmt.Sprintf("%s is in the %s format; the route is added in it", file, rf.Format))
		}
		for _, r := range revived {
			o.Found = append(o.Found, fmt.Sprintf("note: filling the missing index makes ADDRESS%d (%s) reachable too: the readers stopped before it until now and apply it from the next boot", r.Index, r.Dst))
		}
	}
	return o, nil
}

var shellAssign = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)

// shellVar is the last value given to name in a shell variable file, unquoted.
func shellVar(raw []byte, name string) string {
	val := ""
	for _, line := range strings.Split(string(raw), "\n") {
		m := shellAssign.FindStringSubmatch(strings.TrimSuffix(line, "\r"))
		if m != nil && m[1] == name {
			val = strings.Trim(strings.TrimSpace(m[2]), `"'`)
		}
	}
	return val
}

// NetplanDirs are netplan's configuration directories, highest priority first.
var NetplanDirs = []string{"/run/netplan", "/etc/netplan", "/lib/netplan"}

// detectNetplan finds the definition of the interface across netplan's files and adds a
// drop-in of our own in /etc/netplan that netplan merges into it.
func detectNetplan(_ context.Context, env *probes.Env, req Request, found *[]string) (*Owner, error) {
	files := overlay(env, NetplanDirs, func(n string) bool { return strings.HasSuffix(n, ".yaml") && visible(n) })
	if len(files) == 0 {
		*found = append(*found, "no netplan files")
		return nil, nil
	}
	var def netplan.Definition
	defFile, where, renderer := "", "", ""
	for _, p := range files {
		raw, err := readHost(env, p)
		if err != nil {
			return nil, err
		}
		f, err := netplan.Parse(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if f.Renderer != "" {
			renderer = f.Renderer // network.renderer: the last file that sets it wins
		}
		d, ok := f.Find(req.Iface)
		if !ok {
			continue
		}
		if defFile == "" {
			def, defFile = d, p
		}
		if d.Renderer != "" {
			def.Renderer = d.Renderer
		}
		if d.Type == def.Type && d.ID == def.ID && f.HasRoute(def, req.Dst) && where == "" {
			where = p
		}
	}
	if def.Renderer != "" {
		renderer = def.Renderer
	}
	if defFile == "" {
		*found = append(*found, fmt.Sprintf("netplan: none of %d files defines %s", len(files), req.Iface))
		return nil, nil
	}
	o := &Owner{Found: []string{fmt.Sprintf("netplan: %s defines %s as %s.%s", defFile, req.Iface, def.Type, def.ID)}, Source: defFile}
	if where != "" {
		o.Present, o.Where = true, where
		return o, nil
	}
	o.Where = "/etc/netplan/" + netplan.DropInName(req.Iface)
	o.Edit = &Edit{Path: o.Where, New: netplan.DropIn(def, req.Dst, renderer), Perm: 0o600}
	o.Found = append(o.Found, "netplan merges "+o.Where+" into that definition (netplan apply is not run: the route is live already)")
	if renderer == "NetworkManager" {
		o.Found = append(o.Found, "netplan renders it for NetworkManager, which takes no route scope: the route is written without one")
	}
	return o, nil
}

// NetworkdDirs are systemd-networkd's directories, highest priority first.
var NetworkdDirs = []string{"/etc/systemd/network", "/run/systemd/network", "/usr/lib/systemd/network", "/lib/systemd/network"}

// detectNetworkd finds the first .network file (in lexical order, as networkd does) that
// matches the interface and adds a drop-in for it in /etc/systemd/network/NAME.network.d/.
func detectNetworkd(_ context.Context, env *probes.Env, req Request, found *[]string) (*Owner, error) {
	files := overlay(env, NetworkdDirs, func(n string) bool { return strings.HasSuffix(n, ".network") && visible(n) })
	link := linkOf(env, req.Iface)
	for _, p := range files {
		raw, err := readHost(env, p)
		if err != nil {
			return nil, err
		}
		f, err := networkd.Parse(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		m := f.Match()
		if !m.MatchesName(req.Iface) {
			continue
		}
		if ok, why := matchOthers(f, m, link); !ok {
			if why != "" {
				*found = append(*found, fmt.Sprintf("%s: skipped, it matches by %s, which is not evaluated", p, why))
			}
			continue
		}
		dropDir := "/etc/systemd/network/" + filepath.Base(p) + ".d"
		o := &Owner{Found: []string{fmt.Sprintf("systemd-networkd: %s is the first .network file matching %s", p, req.Iface)}, Source: p}
		if f.HasRoute(req.Dst) {
			o.Present, o.Where = true, p
			return o, nil
		}
		for _, d := range NetworkdDirs {
			for _, q := range listDir(env, d+"/"+filepath.Base(p)+".d", func(n string) bool { return strings.HasSuffix(n, ".conf") }) {
				raw, err := readHost(env, q)
				if err != nil {
					return nil, err
				}
				if di, err := networkd.Parse(bytes.NewReader(raw)); err == nil && di.HasRoute(req.Dst) {
					o.Present, o.Where = true, q
					return o, nil
				}
			}
		}
		o.Where = dropDir + "/" + networkd.DropInName
		o.Edit = &Edit{Path: o.Where, New: networkd.DropIn(req.Dst), Perm: 0o644}
		return o, nil
	}
	*found = append(*found, fmt.Sprintf("systemd-networkd: none of %d .network files matches %s", len(files), req.Iface))
	return nil, nil
}

// matchOthers evaluates the [Match] keys besides Name=: MACAddress= against the link's
// address and Type= against its type; a file whose MACAddress= or Type= differ is not for
// this interface. Any other key cannot be told here and the file is passed over (why says
// which key).
func matchOthers(f *networkd.File, m networkd.Match, link linkFacts) (bool, string) {
	for _, k := range m.Other {
		var ok bool
		switch k {
		case "MACAddress", "PermanentMACAddress":
			ok = anyField(f.Values("Match", k), func(w string) bool { return strings.EqualFold(w, link.mac) })
		case "Type":
			ok = globList(f.Values("Match", k), link.typ)
		default:
			continue
		}
		if !ok {
			return false, ""
		}
	}
	for _, k := range m.Other {
		if k != "MACAddress" && k != "PermanentMACAddress" && k != "Type" {
			return false, k + "="
		}
	}
	return true, ""
}

// linkFacts is what networkd's [Match] may test about the interface.
type linkFacts struct {
	mac string
	typ string // networkd's Type=: the DEVTYPE of the device (wlan, bond, ...), else "ether", "loopback", ...
}

func linkOf(env *probes.Env, iface string) linkFacts {
	var lf linkFacts
	if env.Netlink != nil {
		if l, err := env.Netlink.LinkByName(iface); err == nil {
			lf.mac = strings.ToLower(l.Attrs().HardwareAddr.String())
			lf.typ = l.Attrs().EncapType
		}
	}
	if b, err := env.ReadFile("/sys/class/net/"+iface+"/uevent", 64<<10); err == nil {
		if t := shellVar(b, "DEVTYPE"); t != "" {
			lf.typ = t
		}
	}
	return lf
}

func anyField(values []string, pred func(string) bool) bool {
	for _, v := range values {
		for _, w := range strings.Fields(v) {
			if pred(w) {
				return true
			}
		}
	}
	return false
}

// globList applies a systemd list of globs, negated by a leading '!', to s.
func globList(values []string, s string) bool {
	if len(values) == 0 {
		return true
	}
	v := values[len(values)-1]
	neg := strings.HasPrefix(v, "!")
	hit := anyField([]string{strings.TrimPrefix(v, "!")}, func(g string) bool { ok, _ := path.Match(g, s); return ok })
	return hit != neg
}

// InterfacesFile is Debian's ifupdown configuration.
const InterfacesFile = "/etc/network/interfaces"

// detectIfupdown finds the "iface IFACE inet" stanza in /etc/network/interfaces or a file
// it sources, and adds an up ip route replace line to it.
func detectIfupdown(_ context.Context, env *probes.Env, req Request, found *[]string) (*Owner, error) {
	seen, read := map[string]bool{}, 0
	queue := []string{InterfacesFile}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		raw, ok, err := readIfExists(env, p)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		read++
		f, err := ifupdown.Parse(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if f.Has(req.Iface) {
			o := &Owner{Found: []string{fmt.Sprintf("ifupdown: %s has iface %s inet", p, req.Iface)}, Where: p, Source: p}
			switch err := f.AddRoute(req.Iface, req.Dst); {
			case errors.Is(err, ifupdown.ErrExists):
				o.Present = true
			case err != nil:
				return nil, fmt.Errorf("%s: %w", p, err)
			default:
				var b bytes.Buffer
				f.Write(&b)
				o.Edit = &Edit{Path: p, Old: raw, New: b.Bytes(), Perm: 0o644}
			}
			return o, nil
		}
		for _, s := range f.Sources() {
			queue = append(queue, sourced(env, s)...)
		}
	}
	if read == 0 {
		*found = append(*found, "no "+InterfacesFile)
	} else {
		*found = append(*found, fmt.Sprintf("ifupdown: no iface %s inet stanza in %d file(s)", req.Iface, read))
	}
	return nil, nil
}

// ifupdownPart is the file name pattern source-directory reads (run-parts' rule).
var ifupdownPart = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// sourced expands a source (a glob) or source-directory line into host paths; relative
// paths are relative to /etc/network.
func sourced(env *probes.Env, s ifupdown.Source) []string {
	pat := s.Pattern
	if !path.IsAbs(pat) {
		pat = path.Join("/etc/network", pat)
	}
	if s.Directory {
		return listDir(env, pat, ifupdownPart.MatchString)
	}
	matches, err := filepath.Glob(env.Path(pat))
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range matches {
		if strings.HasPrefix(filepath.Base(m), ".") {
			continue // glob(3), which ifupdown uses, leaves hidden files out
		}
		rel := m
		if !env.LiveRoot() {
			rel = "/" + strings.TrimPrefix(strings.TrimPrefix(m, filepath.Clean(env.Root)), "/")
		}
		out = append(out, rel)
	}
	return out
}
