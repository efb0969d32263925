package lab

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// HTTPDModules is where Debian's apache2 keeps its modules (libapache2-mod-jk adds mod_jk).
const HTTPDModules = "/usr/lib/apache2/modules"

// RequireWebServers skips unless apache2 with mod_jk and nginx are installed.
func RequireWebServers(t testing.TB) {
	t.Helper()
	RequireCommands(t, "apache2", "nginx")
	if _, err := os.Stat(HTTPDModules + "/mod_jk.so"); err != nil {
		t.Skip("skipped: mod_jk is not installed (the README's test command installs libapache2-mod-jk)")
	}
}

// WebTier is a web host's configuration tree: /etc/apache2 and /etc/libapache2-mod-jk
// for httpd with mod_jk, /etc/nginx for nginx. The servers the lab starts read it at
// those paths (bound over them in a private mount namespace), and so does a clusterdoctor
// run in the same view: both see the same files.
type WebTier struct {
	Root string
	host *Host
	dir  string // runtime files: pid, logs, shm
}

// NewWebTier writes an empty tree for the host.
func (h *Host) NewWebTier(name string) *WebTier {
	h.lab.t.Helper()
	w := &WebTier{Root: h.lab.Path("web-" + name), host: h, dir: h.lab.Path("web-" + name + "-run")}
	for _, d := range []string{"etc/apache2", "etc/libapache2-mod-jk", "etc/nginx"} {
		h.lab.must(os.MkdirAll(filepath.Join(w.Root, d), 0o755), "mkdir %s", d)
	}
	// httpd's children run as www-data and write their logs here
	h.lab.must(os.MkdirAll(w.dir, 0o777), "mkdir %s", w.dir)
	h.lab.must(os.Chmod(w.dir, 0o777), "chmod %s", w.dir)
	return w
}

// View is the private view in which the tree is the host's /etc/apache2,
// /etc/libapache2-mod-jk and /etc/nginx.
func (w *WebTier) View() Private {
	return Private{Hostname: "web", Hosts: "127.0.0.1\tlocalhost\n" + w.host.Addr.String() + "\tweb\n",
		Binds: map[string]string{
			"/etc/apache2":           filepath.Join(w.Root, "etc/apache2"),
			"/etc/libapache2-mod-jk": filepath.Join(w.Root, "etc/libapache2-mod-jk"),
			"/etc/nginx":             filepath.Join(w.Root, "etc/nginx"),
		}}
}

// ModJK writes httpd's configuration: the modules it needs, mod_jk with the workers
// given and the JkMount lines, listening on port.
func (w *WebTier) ModJK(port int, workers string, mounts ...string) {
	w.host.lab.t.Helper()
	w.httpdMain(port)
	os.Remove(filepath.Join(w.Root, "etc/apache2/mods-enabled/proxy.load"))
	os.Remove(filepath.Join(w.Root, "etc/apache2/mods-enabled/proxy.conf"))
	w.write("etc/apache2/mods-enabled/jk.load", "LoadModule jk_module "+HTTPDModules+"/mod_jk.so\n")
	w.write("etc/apache2/mods-enabled/jk.conf", fmt.Sprintf("<IfModule jk_module>\n    JkWorkersFile /etc/libapache2-mod-jk/workers.properties\n    JkLogFile %s/mod_jk.log\n    JkLogLevel info\n    JkShmFile %s/jk-runtime-status\n    %s\n</IfModule>\n",
		w.dir, w.dir, strings.Join(mounts, "\n    ")))
	w.write("etc/libapache2-mod-jk/workers.properties", workers)
}

// ModProxy writes httpd's configuration with mod_proxy_balancer (AJP and HTTP members)
// instead of mod_jk: conf is the <Proxy balancer://...> section and ProxyPass lines.
func (w *WebTier) ModProxy(port int, conf string) {
	w.host.lab.t.Helper()
	w.httpdMain(port)
	os.Remove(filepath.Join(w.Root, "etc/apache2/mods-enabled/jk.load"))
	os.Remove(filepath.Join(w.Root, "etc/apache2/mods-enabled/jk.conf"))
	var load strings.Builder
	for _, m := range []string{"proxy", "proxy_ajp", "proxy_http", "proxy_balancer", "slotmem_shm", "lbmethod_byrequests"} {
		fmt.Fprintf(&load, "LoadModule %s_module %s/mod_%s.so\n", m, HTTPDModules, m)
	}
	w.write("etc/apache2/mods-enabled/proxy.load", load.String())
	w.write("etc/apache2/mods-enabled/proxy.conf", conf)
}

// Site writes sites-enabled/NAME.conf, which apache2.conf reads after the modules, as
// Debian's does: virtual hosts, more Listen directives.
func (w *WebTier) Site(name, conf string) {
	w.host.lab.t.Helper()
	w.write("etc/apache2/sites-enabled/"+name+".conf", conf)
}

// Write writes a file of the tree: rel is its path under the root
// ("etc/libapache2-mod-jk/uriworkermap.properties").
func (w *WebTier) Write(rel, content string) {
	w.host.lab.t.Helper()
	w.write(rel, content)
}

// httpdMain writes apache2.conf: the MPM, a small pool, logs in the tier's run
// directory, the modules of mods-enabled and the sites of sites-enabled, listening on
// port.
func (w *WebTier) httpdMain(port int) {
	conf := fmt.Sprintf(`ServerRoot "/etc/apache2"
ServerName web
Listen %s
PidFile %s/httpd.pid
Mutex file:%s default
DefaultRuntimeDir %s
User www-data
Group www-data
LoadModule mpm_event_module %s/mod_mpm_event.so
LoadModule authz_core_module %s/mod_authz_core.so
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf
IncludeOptional sites-enabled/*.conf
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
ErrorLog %s/httpd-error.log
LogLevel info
`, net.JoinHostPort(w.host.Addr.String(), fmt.Sprint(port)), w.dir, w.dir, w.dir, HTTPDModules, HTTPDModules, w.dir)
	w.write("etc/apache2/apache2.conf", conf)
}

// Nginx writes nginx's configuration: one upstream block (its body as given) behind
// proxy_pass on port.
func (w *WebTier) Nginx(port int, upstream string) {
	w.host.lab.t.Helper()
	w.write("etc/nginx/nginx.conf", fmt.Sprintf(`pid %s/nginx.pid;
error_log %s/nginx-error.log;
events {
    worker_connections 64;
}
http {
    access_log off;
    include conf.d/*.conf;
}
`, w.dir, w.dir))
	w.NginxHTTP(fmt.Sprintf("upstream tomcats {\n    %s\n}\nserver {\n    listen %s;\n    location / {\n        proxy_pass http://tomcats;\n    }\n}\n",
		upstream, net.JoinHostPort(w.host.Addr.String(), fmt.Sprint(port))))
}

// NginxHTTP replaces what nginx.conf's http block includes: upstreams, maps, servers.
func (w *WebTier) NginxHTTP(conf string) {
	w.host.lab.t.Helper()
	w.write("etc/nginx/conf.d/cluster.conf", conf)
}

func (w *WebTier) write(rel, content string) {
	p := filepath.Join(w.Root, rel)
	w.host.lab.must(os.MkdirAll(filepath.Dir(p), 0o755), "mkdir %s", filepath.Dir(p))
	w.host.lab.must(os.WriteFile(p, []byte(content), 0o644), "write %s", p)
}

// StartHTTPD runs httpd in the foreground in the host's namespace, in the tree's view,
// and waits until it accepts connections on port. The lab stops it by its PID.
func (w *WebTier) StartHTTPD(port int) *exec.Cmd {
	w.host.lab.t.Helper()
	cmd := w.host.Start(w.View(), "httpd", "apache2", "-DFOREGROUND", "-f", "/etc/apache2/apache2.conf")
	w.waitPort(cmd, port, "httpd")
	return cmd
}

// StartNginx runs nginx in the foreground, as StartHTTPD runs httpd.
func (w *WebTier) StartNginx(port int) *exec.Cmd {
	w.host.lab.t.Helper()
	cmd := w.host.Start(w.View(), "nginx", "nginx", "-p", w.dir, "-c", "/etc/nginx/nginx.conf", "-g", "daemon off;")
	w.waitPort(cmd, port, "nginx")
	return cmd
}

// Stop ends a server the tier started, by its PID.
func (w *WebTier) Stop(cmd *exec.Cmd) { stop(cmd) }

// waitPort waits until the server accepts connections; it fails the test with the
// server's error log and output when it never does.
func (w *WebTier) waitPort(cmd *exec.Cmd, port int, name string) {
	t := w.host.lab.t
	t.Helper()
	addr := net.JoinHostPort(w.host.Addr.String(), fmt.Sprint(port))
	deadline := time.Now().Add(15 * time.Second)
	for {
		if w.host.Accepts(addr) == nil {
			return
		}
		if exited(cmd) || time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(w.dir, name+"-error.log"))
			out, _ := os.ReadFile(w.host.lab.Path(name + ".log"))
			t.Fatalf("lab: %s does not listen on %s (%s): %s\n%s", name, addr, statusOf(cmd), tail(log, 3000), out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Accepts tries one TCP connection to addr from inside the host.
func (h *Host) Accepts(addr string) error {
	return h.Do(func() error {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// WaitListening waits until something accepts TCP at addr inside the host; it fails the
// test when nothing does within 15 s.
func (h *Host) WaitListening(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := h.Accepts(addr)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lab: nothing listens on %s in %s: %v", addr, h.Name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
