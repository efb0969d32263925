package web

import (
	"strings"
	"testing"
)

// TestDefineAndEnvironment: ${NAME} in httpd's directives is a Define's value, else
// httpd's environment (Debian's envvars where no httpd runs), else left as written;
// UnDefine drops a variable, and a Define inside a section that does not hold is not read.
func TestDefineAndEnvironment(t *testing.T) {
	env := envWith(t, map[string]string{
		"etc/apache2/apache2.conf": "Define SRVROOT /srv/web\n" +
			"Define JK ${SRVROOT}/jk\n" +
			"JkWorkersFile ${JK}/workers.properties\n" +
			"JkLogFile ${APACHE_LOG_DIR}/mod_jk.log\n" +
			"<IfModule nosuch_module>\nDefine SRVROOT /wrong\n</IfModule>\n" +
			"JkShmFile ${SRVROOT}/shm\n" +
			"UnDefine SRVROOT\n" +
			"JkMount /app/* ${SRVROOT}\n" +
			"Include ${NOSUCH}/x.conf\n",
		"etc/apache2/envvars": "export APACHE_RUN_USER=www-data\nexport APACHE_LOG_DIR=/var/log/apache2$SUFFIX\n",
	})
	c := LoadHTTPD(env)
	if c == nil {
		t.Fatal("LoadHTTPD: nil")
	}
	want := map[string]string{
		"JkWorkersFile": "/srv/web/jk/workers.properties",
		"JkLogFile":     "/var/log/apache2/mod_jk.log",
		"JkShmFile":     "/srv/web/shm",
		"JkMount":       "/app/* ${SRVROOT}",
	}
	for name, w := range want {
		d, ok := c.Last(name)
		if got := strings.Join(d.Args, " "); !ok || got != w {
			t.Errorf("%s = %q; want %q", name, got, w)
		}
	}
	if len(c.Problems) != 1 || !strings.Contains(c.Problems[0], "Include ${NOSUCH}/x.conf: no such file") {
		t.Errorf("problems = %q; want the Include of an undefined variable named as written", c.Problems)
	}
}
