package tomcat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// dnsCacheTTL is how long the running JVM keeps a name's addresses (InetAddressCachePolicy):
// the networkaddress.cache.ttl security property of its java.security, else the
// sun.net.inetaddr.ttl system property, else 30 seconds; -1 is forever. from says which;
// ok is false where the JVM's java.security cannot be read.
func (in *Instance) dnsCacheTTL() (ttl int, from string, ok bool) {
	if in.PID <= 0 || in.env == nil {
		return 0, "", false
	}
	exe, err := os.Readlink(in.env.Path(fmt.Sprintf("/proc/%d/exe", in.PID)))
	if err != nil {
		return 0, "", false
	}
	home := filepath.Dir(filepath.Dir(exe)) // JAVA_HOME/bin/java
	file := filepath.Join(home, "conf", "security", "java.security")
	b, err := in.env.ReadFile(fmt.Sprintf("/proc/%d/root%s", in.PID, file), 1<<20)
	if err != nil {
		return 0, "", false
	}
	if v, line, found := securityProperty(b, "networkaddress.cache.ttl"); found {
		if n, err := strconv.Atoi(v); err == nil {
			return n, fmt.Sprintf("networkaddress.cache.ttl=%s in %s:%d", v, file, line), true
		}
	}
	if p, found := in.propOf("sun.net.inetaddr.ttl"); found {
		if n, err := strconv.Atoi(strings.TrimSpace(p.Value)); err == nil {
			return n, fmt.Sprintf("-Dsun.net.inetaddr.ttl=%s (%s)", p.Value, p.From), true
		}
	}
	return 30, "the JVM's default", true
}

// securityProperty is a key of a java.security file (a properties file; "#" comments).
func securityProperty(b []byte, key string) (value string, line int, found bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") || strings.HasPrefix(l, "!") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if ok && strings.TrimSpace(k) == key {
			value, line, found = strings.TrimSpace(v), n, true
		}
	}
	return value, line, found
}
