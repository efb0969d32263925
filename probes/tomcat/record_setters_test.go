package tomcat

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRecordSetters writes setters/TAG.txt, what the digester can set on each recorded
// cluster class and on StandardEngine per release, from the apache/tomcat sources: run
// with CLUSTERDOCTOR_TOMCAT_SOURCES set to a clone of github.com/apache/tomcat. Without
// it, it skips; the recorded files are checked against the installed jars by
// TestRecordedSettersMatchTheJars.
func TestRecordSetters(t *testing.T) {
	repo := os.Getenv("CLUSTERDOCTOR_TOMCAT_SOURCES")
	if repo == "" {
		t.Skip("skipped: set CLUSTERDOCTOR_TOMCAT_SOURCES to a clone of apache/tomcat to record the setters")
	}
	for _, tag := range recorded {
		src := javaSources{repo: repo, tag: tag, cache: map[string]*javaClass{}}
		classes := append(slices.Sorted(func(yield func(string) bool) {
			for c := range classList(t, tag) {
				if !yield(c) {
					return
				}
			}
		}), "org.apache.catalina.core.StandardEngine")
		var out strings.Builder
		fmt.Fprintf(&out, "# What Tomcat %s's digester can set on each class: CLASS SETTER... (\"*\": any attribute, setProperty(String, String)).\n", tag)
		for _, cls := range classes {
			setters, any, ok := src.setters(cls)
			if !ok {
				continue // an interface, or a class whose superclass is the JDK's
			}
			line := cls
			if any {
				line += " *"
			}
			for _, s := range slices.Sorted(func(yield func(string) bool) {
				for s := range setters {
					if !yield(s) {
						return
					}
				}
			}) {
				line += " " + s
			}
			fmt.Fprintln(&out, line)
		}
		if err := os.WriteFile(filepath.Join("setters", tag+".txt"), []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// javaSources reads classes of one tag of the apache/tomcat repository.
type javaSources struct {
	repo, tag string
	cache     map[string]*javaClass
}

// javaClass is what the setters recording needs of one source file.
type javaClass struct {
	super   string // "" for Object; "?" when it is not in the sources (the JDK's)
	setters map[string]bool
	any     bool
	ok      bool
}

var (
	classDecl   = regexp.MustCompile(`(?m)^public\s+(?:abstract\s+|final\s+)*class\s+(\w+)(?:<[^>{]*>)?\s*(?:extends\s+([\w.]+))?`)
	importDecl  = regexp.MustCompile(`(?m)^import\s+([\w.]+)\s*;`)
	wildImport  = regexp.MustCompile(`(?m)^import\s+([\w.]+)\.\*\s*;`)
	setterDecl  = regexp.MustCompile(`public\s+(?:static\s+)?(?:final\s+)?(?:synchronized\s+)?[\w<>\[\],.? ]+?\s+set(\w+)\s*\(\s*(?:final\s+)?([\w.]+)\s+\w+\s*\)`)
	setPropDecl = regexp.MustCompile(`public\s+(?:final\s+)?(?:synchronized\s+)?\w+\s+setProperty\s*\(\s*(?:final\s+)?String\s+\w+\s*,\s*(?:final\s+)?String\s+\w+\s*\)`)
	javaSetter  = map[string]bool{"String": true, "java.lang.String": true, "int": true, "Integer": true, "long": true, "Long": true,
		"boolean": true, "Boolean": true, "InetAddress": true, "java.net.InetAddress": true}
)

// read parses one class's source; nil when the tag has no such file.
func (s *javaSources) read(class string) *javaClass {
	if c, ok := s.cache[class]; ok {
		return c
	}
	out, err := exec.Command("git", "-C", s.repo, "show", s.tag+":java/"+strings.ReplaceAll(class, ".", "/")+".java").Output()
	var c *javaClass
	if err == nil {
		c = parseJava(string(out), class, func(name string) bool { return s.exists(name) })
	}
	s.cache[class] = c
	return c
}

func (s *javaSources) exists(class string) bool {
	return exec.Command("git", "-C", s.repo, "cat-file", "-e", s.tag+":java/"+strings.ReplaceAll(class, ".", "/")+".java").Run() == nil
}

// parseJava reads the public class of a source file: its superclass resolved as javac
// would (qualified, imported, the same package, a wildcard import), its public setters of
// the types IntrospectionUtils converts to, and setProperty(String, String).
func parseJava(src, class string, exists func(string) bool) *javaClass {
	m := classDecl.FindStringSubmatch(src)
	if m == nil {
		return &javaClass{} // an interface or an enum: nothing is created from it
	}
	c := &javaClass{setters: map[string]bool{}, ok: true}
	if sup := m[2]; sup != "" {
		pkg, _, _ := cutLast(class, ".")
		switch {
		case strings.Contains(sup, "."):
			c.super = sup
		default:
			c.super = "?"
			for _, im := range importDecl.FindAllStringSubmatch(src, -1) {
				if strings.HasSuffix(im[1], "."+sup) {
					c.super = im[1]
				}
			}
			if c.super == "?" && exists(pkg+"."+sup) {
				c.super = pkg + "." + sup
			}
			for _, w := range wildImport.FindAllStringSubmatch(src, -1) {
				if c.super == "?" && exists(w[1]+"."+sup) {
					c.super = w[1] + "." + sup
				}
			}
		}
	}
	depth := braceDepths(src)
	for _, idx := range setterDecl.FindAllStringSubmatchIndex(src, -1) {
		if depth[idx[0]] == 1 && javaSetter[src[idx[4]:idx[5]]] { // the class's own, not a nested class's
			c.setters[src[idx[2]:idx[3]]] = true
		}
	}
	for _, idx := range setPropDecl.FindAllStringIndex(src, -1) {
		c.any = c.any || depth[idx[0]] == 1
	}
	return c
}

// braceDepths is, for each byte of a Java source, how many braces are open there;
// comments and string and character literals do not count.
func braceDepths(src string) []int {
	out := make([]int, len(src)+1)
	depth := 0
	for i := 0; i < len(src); i++ {
		out[i] = depth
		switch {
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				out[i] = depth
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				end = len(src) - i - 2
			}
			for j := i; j < i+end+4 && j < len(src); j++ {
				out[j] = depth
			}
			i += end + 3
		case src[i] == '"' || src[i] == '\'':
			q := src[i]
			for i++; i < len(src) && src[i] != q; i++ {
				if src[i] == '\\' {
					i++
				}
				if i < len(src) {
					out[i] = depth
				}
			}
		case src[i] == '{':
			depth++
		case src[i] == '}':
			depth--
		}
	}
	return out
}

// setters are a class's setters with its superclasses'; ok false for an interface or a
// class that extends one of the JDK's (other than Object).
func (s *javaSources) setters(class string) (map[string]bool, bool, bool) {
	out, any := map[string]bool{}, false
	for depth := 0; class != "" && depth < 32; depth++ {
		c := s.read(class)
		if c == nil || !c.ok || c.super == "?" {
			return nil, false, false
		}
		for k := range c.setters {
			out[k] = true
		}
		any = any || c.any
		class = c.super
		if strings.HasPrefix(class, "java.") {
			return nil, false, false
		}
	}
	return out, any, true
}
