package resolve

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/gaiconf"
)

// srcTable fakes the kernel's source selection: dst -> source (absent: unreachable).
func srcTable(m map[string]Source) func(netip.Addr) (Source, bool) {
	return func(a netip.Addr) (Source, bool) {
		s, ok := m[a.String()]
		return s, ok
	}
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func src(a string, prefix int) Source { return Source{Addr: netip.MustParseAddr(a), PrefixLen: prefix} }

func TestSort(t *testing.T) {
	local := map[string]Source{
		"127.0.1.1": src("127.0.0.1", 8), "10.0.0.1": src("10.0.0.1", 24), "10.0.0.77": src("10.0.0.1", 24),
		"10.0.1.5": src("10.0.1.5", 24), "::1": src("::1", 128), "192.0.2.9": src("10.0.0.1", 24),
	}
	tests := []struct {
		name string
		in   []string
		gai  *gaiconf.Config
		want []string
	}{
		{"rule 8: loopback scope before site scope", []string{"10.0.0.1", "127.0.1.1"}, nil, []string{"127.0.1.1", "10.0.0.1"}},
		{"rule 1: unreachable last", []string{"172.16.0.9", "10.0.0.1"}, nil, []string{"10.0.0.1", "172.16.0.9"}},
		{"rule 2: public destination through a private source mismatches scope", []string{"192.0.2.9", "10.0.0.77"}, nil, []string{"10.0.0.77", "192.0.2.9"}},
		{"rule 9: the held address over a subnet neighbour", []string{"10.0.0.77", "10.0.0.1"}, nil, []string{"10.0.0.1", "10.0.0.77"}},
		{"rule 10: two held addresses keep their order", []string{"10.0.1.5", "10.0.0.1"}, nil, []string{"10.0.1.5", "10.0.0.1"}},
		{"rule 6: ::1 before IPv4 (Java reorders later)", []string{"10.0.0.1", "::1"}, nil, []string{"::1", "10.0.0.1"}},
		{"gai.conf scopev4 makes 127/8 global", []string{"127.0.1.1", "10.0.0.1"},
			&gaiconf.Config{Scopes: []gaiconf.Entry{{Prefix: netip.MustParsePrefix("::ffff:127.0.0.0/104"), Value: 14}}}, []string{"10.0.0.1", "127.0.1.1"}},
	}
	for _, tt := range tests {
		got := Sort(addrs(tt.in...), NewTables(tt.gai), srcTable(local))
		if !reflect.DeepEqual(got, addrs(tt.want...)) {
			t.Errorf("%s: Sort(%v) = %v; want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestSortWithoutKernel(t *testing.T) {
	// An image under --root: no source is known, the rules that need none still apply.
	unknown := func(netip.Addr) (Source, bool) { return Source{}, true }
	got := Sort(addrs("10.0.0.1", "127.0.1.1"), NewTables(nil), unknown)
	if !reflect.DeepEqual(got, addrs("127.0.1.1", "10.0.0.1")) {
		t.Errorf("Sort without sources = %v; want loopback first (rule 8)", got)
	}
}

func TestJavaOrderAfterSort(t *testing.T) {
	got := javaOrder(dedupe(addrs("::1", "10.0.0.1", "::1", "10.0.0.1")))
	if !reflect.DeepEqual(got, addrs("10.0.0.1", "::1")) {
		t.Errorf("javaOrder(dedupe) = %v; want IPv4 first, each once", got)
	}
}
