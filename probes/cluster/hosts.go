package cluster

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/netcfg/ansible"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/remote"
)

// Groups name the inventory groups that give the roles.
type Groups struct{ Web, WAS string }

// FromInventory are the inventory's hosts (those named by pick, host or group names, when
// any are given), each with its connection variables as Ansible reads them (ansible_host,
// ansible_user, ansible_port, ansible_ssh_private_key_file, ansible_become,
// ansible_connection=local) and its roles from the web and WAS groups.
func FromInventory(inv *ansible.Inventory, pick []string, g Groups) ([]Host, error) {
	chosen := map[string]bool{}
	for _, p := range pick {
		found := false
		for _, h := range inv.Hosts {
			if h.Name == p || inv.InGroup(h.Name, p) {
				chosen[h.Name], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("%q is neither a host nor a group of the inventory", p)
		}
	}
	var out []Host
	for _, ih := range inv.Hosts {
		if len(pick) > 0 && !chosen[ih.Name] {
			continue
		}
		v := inv.Vars(ih.Name)
		t := remote.Target{Name: ih.Name, Address: v["ansible_host"], User: v["ansible_user"],
			Key: firstOf(v["ansible_ssh_private_key_file"], v["ansible_private_key_file"]), Local: v["ansible_connection"] == "local"}
		if p := v["ansible_port"]; p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("host %s: ansible_port %q is not a port", ih.Name, p)
			}
			t.Port = n
		}
		if b := v["ansible_become"]; b != "" {
			on, err := boolean(b)
			if err != nil {
				return nil, fmt.Errorf("host %s: ansible_become %q: %w", ih.Name, b, err)
			}
			t.Become = on
			if m := v["ansible_become_method"]; on && m != "" && m != "sudo" {
				return nil, fmt.Errorf("host %s: ansible_become_method %s: clusterdoctor becomes root with sudo -n only", ih.Name, m)
			}
		}
		h := Host{Target: t}
		if inv.InGroup(ih.Name, g.WAS) {
			h.Roles = append(h.Roles, probes.RoleWAS)
		}
		if inv.InGroup(ih.Name, g.Web) {
			h.Roles = append(h.Roles, probes.RoleWeb)
		}
		if len(h.Roles) > 0 {
			h.RolesFrom = "inventory"
		}
		out = append(out, h)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the inventory names no host")
	}
	return out, nil
}

// boolean reads a variable as Ansible's boolean filter does.
func boolean(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1", "y", "t":
		return true, nil
	case "false", "no", "off", "0", "n", "f":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean (true or false)")
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// FromArgs are hosts named on the command line, [USER@]HOST each; ssh's own configuration
// says the rest.
func FromArgs(args []string) ([]Host, error) {
	var out []Host
	for _, a := range args {
		user, host, ok := strings.Cut(a, "@")
		if !ok {
			user, host = "", a
		}
		if host == "" || strings.ContainsAny(host, " /") || strings.HasPrefix(host, "-") {
			return nil, fmt.Errorf("%q is not a host name or address", a)
		}
		out = append(out, Host{Target: remote.Target{Name: host, User: user}})
	}
	return out, nil
}

// MarkLocal sets Local on the hosts that are this one (its host name, or an address it
// holds, as this host resolves the name), so that they run without ssh.
func MarkLocal(ctx context.Context, hosts []Host) {
	self, _ := os.Hostname()
	local := map[netip.Addr]bool{}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				local[p.Addr().Unmap()] = true
			}
		}
	}
	for i := range hosts {
		h := &hosts[i]
		if h.Local || (h.User != "" && h.User != currentUser()) {
			continue
		}
		if h.Addr() == self || strings.EqualFold(h.Addr(), "localhost") {
			h.Local = true
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ips, err := net.DefaultResolver.LookupNetIP(rctx, "ip", h.Addr())
		cancel()
		if err != nil {
			continue
		}
		for _, ip := range ips {
			if ip = ip.Unmap(); local[ip] || ip.IsLoopback() {
				h.Local = true
			}
		}
	}
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if os.Geteuid() == 0 {
		return "root"
	}
	return ""
}

// SelfAddress is the address this host reaches peer from, as the kernel picks it (a UDP
// socket connected to the peer: nothing is sent), so that the other hosts are given an
// address of this one they can resolve; its host name where the peer does not resolve.
// Equivalent: ip route get PEER (its src).
func SelfAddress(peer string) string {
	c, err := net.Dial("udp", net.JoinHostPort(peer, "9"))
	if err == nil {
		defer c.Close()
		if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
			return a.IP.String()
		}
	}
	name, _ := os.Hostname()
	return name
}
