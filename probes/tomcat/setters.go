package tomcat

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// maxClassFile bounds one class file read from a jar; Tomcat's largest are under 200 KiB.
const maxClassFile = 4 << 20

// setterSet is what the digester can set on objects of a class, its superclasses
// included: the setters by what follows "set", and whether any attribute is taken (a
// public setProperty(String, String)).
type setterSet struct {
	Setters map[string]bool
	Any     bool
}

// Accepts reports whether the digester's SetPropertiesRule finds a property for attr.
func (s setterSet) Accepts(attr string) bool { return s.Any || s.Setters[capitalize(attr)] }

// setterCache keeps the classes read from a class path, for all checks of a run.
type setterCache struct {
	mu    sync.Mutex
	infos map[string]*classInfo // nil value: cannot be read
}

// Setters reads what the digester can set on class from the class path's own jars and
// class directories, following its superclasses. ok is false when the class or one of its
// superclasses other than java.lang.Object is not on the class path (a JDK class, a
// missing jar): then nothing can be said of its attributes.
func (c *ClassPath) Setters(class string) (setterSet, bool) {
	c.setters.mu.Lock()
	defer c.setters.mu.Unlock()
	if c.setters.infos == nil {
		c.setters.infos = map[string]*classInfo{}
	}
	open := map[string]*zip.ReadCloser{}
	defer func() {
		for _, z := range open {
			z.Close()
		}
	}()
	out := setterSet{Setters: map[string]bool{}}
	for depth := 0; class != "" && depth < 32; depth++ {
		ci, seen := c.setters.infos[class]
		if !seen {
			ci = c.readClass(class, open)
			c.setters.infos[class] = ci
		}
		if ci == nil {
			return setterSet{}, false
		}
		for s := range ci.Setters {
			out.Setters[s] = true
		}
		out.Any = out.Any || ci.SetProperty
		class = ci.Super
	}
	return out, class == ""
}

// readClass reads and parses one class from where the class path has it; nil when it
// has not or it cannot be read.
func (c *ClassPath) readClass(class string, open map[string]*zip.ReadCloser) *classInfo {
	where, ok := c.Has(class)
	if !ok {
		return nil
	}
	rel := strings.ReplaceAll(class, ".", "/") + ".class"
	var b []byte
	var err error
	if strings.HasSuffix(strings.ToLower(where), ".jar") {
		z := open[where]
		if z == nil {
			if z, err = zip.OpenReader(c.env.HostPath(where)); err != nil {
				return nil
			}
			open[where] = z
		}
		f, err := z.Open(rel)
		if err != nil {
			return nil
		}
		b, err = io.ReadAll(io.LimitReader(f, maxClassFile))
		f.Close()
		if err != nil {
			return nil
		}
	} else if b, err = os.ReadFile(c.env.HostPath(filepath.Clean(where))); err != nil {
		return nil
	}
	ci, err := parseClass(b)
	if err != nil || ci.Name != class {
		return nil
	}
	return ci
}

// nearestProperty is the setter of s closest to a misspelt attribute, as an attribute
// ("jvmRoute" for jvmRouter), within a third of its length; "" when none is that close.
func nearestProperty(s setterSet, attr string) string {
	best, bestD := "", len(attr)/3+1
	for setter := range s.Setters {
		name := propertyName(setter)
		if d := editDistance(strings.ToLower(name), strings.ToLower(attr)); d < bestD || d == bestD && best != "" && name < best {
			best, bestD = name, d
		}
	}
	return best
}

// describeMissing words an attribute the digester will not set on an element.
func describeMissing(in *Instance, e elementClass, attr, value string, s setterSet) string {
	msg := fmt.Sprintf("Tomcat ignores %s=%q on <%s> at %s: %s has no such property", attr, value, e.el.Name, in.pos(e.el), SimpleNameOf(e.class))
	if other := otherSeriesWith(e.class, attr, in.Version); len(other) > 0 && !in.Version.IsZero() {
		msg += fmt.Sprintf(" in %s (Tomcat %s had it)", in.Version, strings.Join(other, " and "))
	} else if near := nearestProperty(s, attr); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	return msg
}
