package firewall

import "testing"

// TestFilesOf: firewalld's configuration directories from its command line.
func TestFilesOf(t *testing.T) {
	for _, c := range []struct{ cmdline, system, def string }{
		{"/usr/bin/python3\x00/usr/sbin/firewalld\x00--nofork\x00--nopid\x00", "", ""},
		{"/usr/bin/python3\x00/usr/sbin/firewalld\x00--system-config\x00/tmp/fw\x00", "/tmp/fw", ""},
		{"/usr/bin/python3\x00/usr/sbin/firewalld\x00--system-config=/srv/fw\x00--default-config\x00/srv/lib\x00", "/srv/fw", "/srv/lib"},
		{"firewalld\x00--system-config", "", ""}, // no value: firewalld would not start
	} {
		f := filesOf(42, []byte(c.cmdline))
		if f.System != c.system || f.Default != c.def || f.Root != "/proc/42/root" {
			t.Errorf("%q: %+v; want system %q default %q under /proc/42/root", c.cmdline, f, c.system, c.def)
		}
	}
}
