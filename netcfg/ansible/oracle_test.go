package ansible

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// TestAgainstAnsibleInventory reads each test inventory with the real ansible-inventory
// (ansible-core) and wants, for every host, the groups and the effective connection
// variables Parse gives.
func TestAgainstAnsibleInventory(t *testing.T) {
	if _, err := exec.LookPath("ansible-inventory"); err != nil {
		t.Skip("skipped: no ansible-inventory (install ansible-core)")
	}
	home := t.TempDir()
	files, _ := filepath.Glob("testdata/*")
	for _, file := range files {
		cmd := exec.Command("ansible-inventory", "-i", file, "--list")
		cmd.Env = append(os.Environ(), "HOME="+home, "ANSIBLE_HOME="+home, "ANSIBLE_LOCAL_TEMP="+home, "ANSIBLE_INVENTORY_UNPARSED_FAILED=true")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ansible-inventory %s: %v", file, err)
		}
		var list map[string]json.RawMessage
		if err := json.Unmarshal(out, &list); err != nil {
			t.Fatal(err)
		}
		var meta struct {
			Hostvars map[string]map[string]any `json:"hostvars"`
		}
		json.Unmarshal(list["_meta"], &meta)
		groups := map[string][]string{} // host -> groups ansible puts it in directly or by children
		var walk func(group string, seen []string)
		walk = func(group string, seen []string) {
			var g struct {
				Hosts    []string `json:"hosts"`
				Children []string `json:"children"`
			}
			json.Unmarshal(list[group], &g)
			seen = append(seen, group)
			for _, h := range g.Hosts {
				for _, s := range seen {
					if !slices.Contains(groups[h], s) {
						groups[h] = append(groups[h], s)
					}
				}
			}
			for _, c := range g.Children {
				walk(c, seen)
			}
		}
		walk("all", nil)
		b, _ := os.ReadFile(file)
		inv, err := Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(inv.Hosts) != len(meta.Hostvars) {
			t.Errorf("%s: %d hosts, ansible-inventory has %d", file, len(inv.Hosts), len(meta.Hostvars))
		}
		for host, vars := range meta.Hostvars {
			got := inv.Vars(host)
			for k, v := range vars {
				if fmt.Sprint(v) != got[k] && !(fmt.Sprint(v) == "true" && got[k] == "True") {
					t.Errorf("%s: %s's %s = %q, ansible-inventory says %v", file, host, k, got[k], v)
				}
			}
			for _, g := range groups[host] {
				if g != "ungrouped" && !inv.InGroup(host, g) {
					t.Errorf("%s: %s not in %s, ansible-inventory puts it there", file, host, g)
				}
			}
			for _, g := range inv.GroupsOf(host) {
				if g != "ungrouped" && !slices.Contains(groups[host], g) {
					t.Errorf("%s: %s in %s, ansible-inventory does not put it there (%v)", file, host, g, groups[host])
				}
			}
		}
	}
}
