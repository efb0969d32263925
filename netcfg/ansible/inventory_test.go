package ansible

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
)

func parseFile(t *testing.T, name string) (*Inventory, []byte) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return inv, b
}

// TestBothForms reads the same cluster in INI and YAML and wants the same hosts, groups
// and effective variables, Ansible's precedence applied (host over child group over parent
// group over all).
func TestBothForms(t *testing.T) {
	for _, name := range []string{"cluster.ini", "cluster.yml"} {
		inv, raw := parseFile(t, name)
		var hosts []string
		for _, h := range inv.Hosts {
			hosts = append(hosts, h.Name)
		}
		want := []string{"web1", "was1", "was2", "was3"}
		if !reflect.DeepEqual(hosts, want) {
			t.Errorf("%s: hosts %v, want %v", name, hosts, want)
		}
		for host, want := range map[string]map[string]string{
			"was1": {"ansible_user": "deploy", "ansible_become": "false"},
			"was3": {"ansible_user": "root", "ansible_become": "true", "ansible_port": "2222", "ansible_host": "10.0.0.13"},
			"web1": {"ansible_user": "ops", "ansible_host": "10.0.0.10"},
		} {
			got := inv.Vars(host)
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %s's %s = %q, want %q (all: %v)", name, host, k, got[k], v, got)
				}
			}
		}
		if !inv.InGroup("was2", "was") || inv.InGroup("was2", "web") || !inv.InGroup("web1", "web") || !inv.InGroup("was3", "all") {
			t.Errorf("%s: groups of was2 %v, web1 %v", name, inv.GroupsOf("was2"), inv.GroupsOf("web1"))
		}
		if name == "cluster.ini" && !inv.InGroup("was1", "cluster") {
			t.Errorf("%s: was1 is in cluster through [cluster:children]: %v", name, inv.GroupsOf("was1"))
		}
		var out bytes.Buffer
		if err := inv.Write(&out); err != nil || !bytes.Equal(out.Bytes(), raw) {
			t.Errorf("%s: Write does not round-trip (%v):\n%s", name, err, out.String())
		}
	}
}

func TestExpandRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "was1", want: []string{"was1"}},
		{in: "was[1:3]", want: []string{"was1", "was2", "was3"}},
		{in: "web[01:05:2].example.com", want: []string{"web01.example.com", "web03.example.com", "web05.example.com"}},
		{in: "db-[a:c]", want: []string{"db-a", "db-b", "db-c"}},
		{in: "r[1:2]n[a:b]", want: []string{"r1na", "r1nb", "r2na", "r2nb"}},
		{in: "was[3:1]", err: "smaller number"},
		{in: "was[1:100000]", err: "more than"},
		{in: "was[1", err: "unclosed"},
		{in: "was[1:2:0]", err: "step"},
	} {
		got, err := expandRange(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestBadInventories(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"[was\nwas1\n", "line 1: \"[was\" is not a section header"},
		{"[was:hosts]\n", "line 1: section"},
		{"[was]\nwas1 user\n", "line 2: host was1: \"user\" is not key=value"},
		{"[was]\nwas1 a='b\n", "line 2: unclosed ' quote"},
		{"[was:vars]\nnovalue\n", "line 2: [was:vars] wants key=value"},
		{"[was]\nwas1:ssh\n", "port \"ssh\" is not a number"},
		{"all:\n  hosts: [a, b]\n", "line 2: group all: hosts: want host names as keys"},
		{"all:\n  host:\n    a:\n", "\"host\" is not hosts, vars or children"},
		{"all:\n  hosts: [\n", "inventory: yaml"},
	} {
		_, err := Parse(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"cluster.ini", "cluster.yml"} {
		b, _ := os.ReadFile("testdata/" + name)
		f.Add(b)
	}
	f.Add([]byte("[a:children]\nb\n[b:children]\na\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, h := range inv.Hosts {
			inv.Vars(h.Name)
			inv.GroupsOf(h.Name)
		}
		var out bytes.Buffer
		if err := inv.Write(&out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), b) {
			t.Fatalf("round trip:\n%q\n%q", b, out.Bytes())
		}
	})
}
