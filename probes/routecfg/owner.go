// Package routecfg finds the persistent network configuration that owns an interface
// (NetworkManager, ifcfg, netplan, systemd-networkd or ifupdown), tells whether it already
// has a route, and prepares the edit that adds it. fix route --persist writes that edit;
// the route.persistent check reports what it found.
package routecfg

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/nm"
)

// Backend names a persistent network configuration mechanism. The values are what
// --backend takes and what the JSON evidence says: stable API.
type Backend string

// Backends.
const (
	NetworkManager Backend = "networkmanager"
	Ifcfg          Backend = "ifcfg"
	Netplan        Backend = "netplan"
	Networkd       Backend = "networkd"
	Ifupdown       Backend = "ifupdown"
)

// Backends lists them in detection order: a daemon that runs, then the files of each.
var Backends = []Backend{NetworkManager, Ifcfg, Netplan, Networkd, Ifupdown}

// ParseBackend checks a --backend value.
func ParseBackend(s string) (Backend, error) {
	for _, b := range Backends {
		if string(b) == s {
			return b, nil
		}
	}
	names := make([]string, len(Backends))
	for i, b := range Backends {
		names[i] = string(b)
	}
	return "", fmt.Errorf("unknown backend %q (one of: %s)", s, strings.Join(names, ", "))
}

// Owner is the configuration that owns the interface, and where the route is or goes.
type Owner struct {
	Backend Backend
	// Found says, one line each, what detection looked at and saw, for --dry-run.
	Found []string
	// Present is true when the persistent configuration already has the route.
	Present bool
	// Dead says why a route the file has is never applied at boot (an ifcfg ADDRESSn after
	// a missing index), "" otherwise.
	Dead string
	// Source is the host path of the file that configures the interface.
	Source string
	// Where is the host path of the file that has the route, or will have it (Source
	// itself, or a drop-in beside it).
	Where string
	// Edit is the file change that adds the route; nil when Present, or when
	// NetworkManager runs and is asked over D-Bus instead (NM is set).
	Edit *Edit
	// NM is set when NetworkManager runs and manages the interface.
	NM *NMProfile

	req Request
}

// Request is what Detect was asked.
func (o *Owner) Request() Request { return o.req }

// NMProfile is the profile to change through NetworkManager's D-Bus API.
type NMProfile struct {
	Client  *nm.Client
	Profile *nm.Profile
	conn    io.Closer
}

// Close releases the D-Bus connection of a NetworkManager owner.
func (o *Owner) Close() {
	if o != nil && o.NM != nil && o.NM.conn != nil {
		o.NM.conn.Close()
	}
}

// Edit is a whole-file change: Old is nil for a new file.
type Edit struct {
	Path string // host path, as shown to the user; the Env maps it under --root
	Old  []byte
	New  []byte
	// Perm is the mode of a new file (an existing one keeps its own).
	Perm uint32
}

// Changed reports whether the edit changes anything.
func (e *Edit) Changed() bool { return e != nil && (e.Old == nil || !bytes.Equal(e.Old, e.New)) }

// Describe is the one-line answer for the check and the fix.
func (o *Owner) Describe() string {
	s := string(o.Backend)
	if o.NM != nil {
		s = fmt.Sprintf("NetworkManager profile %q", o.NM.Profile.ID)
	}
	where := o.Source
	if o.Present {
		where = o.Where
	}
	if where != "" {
		s += " (" + where + ")"
	}
	return s
}
