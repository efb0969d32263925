package tomcat

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// defaultCommonLoader is Tomcat's common.loader when catalina.properties does not set it:
// the server's classes come from CATALINA_BASE/lib, then CATALINA_HOME/lib.
const defaultCommonLoader = `"${catalina.base}/lib","${catalina.base}/lib/*.jar","${catalina.home}/lib","${catalina.home}/lib/*.jar"`

// maxJars bounds how many jars one class path may list; a real lib has about 30.
const maxJars = 1000

// ClassPath is what the server class loader can load: the entries of every jar, and the
// class directories, of common.loader and server.loader. It is the installed truth for
// any version, including ones no table lists.
type ClassPath struct {
	// Jars are the jars read, in class path order.
	Jars []string
	// Dirs are class directories, looked up on demand.
	Dirs []string
	// where maps a class name to the jar that holds it (the first on the path).
	where map[string]string
	// Unreadable lists jars that could not be read, with why.
	Unreadable []string
	env        *probes.Env
	// setters are the class files read for what the digester can set (Setters).
	setters setterCache
}

// loadClassPath reads the server class path of an instance: each entry of common.loader
// and server.loader, with ${catalina.base} and ${catalina.home} replaced, as Bootstrap's
// ClassLoaderFactory does ("DIR/*.jar" every jar in DIR, "X.jar" one jar, else a class
// directory).
func loadClassPath(env *probes.Env, in *Instance) *ClassPath {
	c := &ClassPath{where: map[string]string{}, env: env}
	for _, key := range []string{"common.loader", "server.loader"} {
		value := ""
		if p, ok := in.Props.Get(key); ok {
			value = p.Value
		} else if key == "common.loader" {
			value = defaultCommonLoader
		}
		for _, entry := range loaderEntries(in.Props.Replace(value)) {
			c.add(entry)
		}
	}
	return c
}

// loaderEntries splits a class loader property the way CatalinaProperties' users do:
// comma-separated, each entry optionally in double quotes.
func loaderEntries(v string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		e = strings.Trim(strings.TrimSpace(e), `"`)
		if e != "" {
			out = append(out, filepath.Clean(e))
		}
	}
	return out
}

func (c *ClassPath) add(entry string) {
	switch {
	case strings.HasSuffix(entry, "*.jar"):
		dir := strings.TrimSuffix(entry, "*.jar")
		ents, err := os.ReadDir(c.env.HostPath(dir))
		if err != nil {
			return // a missing lib directory is normal for CATALINA_BASE
		}
		for _, d := range ents {
			if strings.HasSuffix(strings.ToLower(d.Name()), ".jar") && len(c.Jars) < maxJars {
				c.readJar(filepath.Join(dir, d.Name()))
			}
		}
	case strings.HasSuffix(strings.ToLower(entry), ".jar"):
		if len(c.Jars) < maxJars {
			c.readJar(entry)
		}
	default:
		if st, err := os.Stat(c.env.HostPath(entry)); err == nil && st.IsDir() {
			c.Dirs = append(c.Dirs, entry)
		}
	}
}

// readJar indexes a jar's entries from its central directory; no entry is inflated.
func (c *ClassPath) readJar(jar string) {
	for _, seen := range c.Jars {
		if seen == jar {
			return
		}
	}
	z, err := zip.OpenReader(c.env.HostPath(jar))
	if err != nil {
		c.Unreadable = append(c.Unreadable, fmt.Sprintf("%s: %v", jar, err))
		return
	}
	defer z.Close()
	c.Jars = append(c.Jars, jar)
	for _, f := range z.File {
		name, ok := strings.CutSuffix(f.Name, ".class")
		if !ok || strings.Contains(name, "$") {
			continue
		}
		cls := strings.ReplaceAll(name, "/", ".")
		if _, dup := c.where[cls]; !dup {
			c.where[cls] = jar
		}
	}
}

// Has reports whether the class can be loaded, and from where.
func (c *ClassPath) Has(class string) (string, bool) {
	if jar, ok := c.where[class]; ok {
		return jar, true
	}
	rel := strings.ReplaceAll(class, ".", "/") + ".class"
	for _, d := range c.Dirs {
		p := filepath.Join(d, rel)
		if _, err := os.Stat(c.env.HostPath(p)); err == nil {
			return p, true
		}
	}
	return "", false
}

// InPackage lists the loadable classes of a package (not its subpackages), sorted.
func (c *ClassPath) InPackage(pkg string) []string {
	var out []string
	for cls := range c.where {
		if p, _, ok := cutLast(cls, "."); ok && p == pkg {
			out = append(out, cls)
		}
	}
	sort.Strings(out)
	return out
}

// Count is how many classes the jars hold.
func (c *ClassPath) Count() int { return len(c.where) }

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
