package tomcat

import (
	"bufio"
	"embed"
	"strings"
	"sync"
)

// recordedFiles are what each recorded release's digester can set on its cluster classes
// and StandardEngine, recorded from the apache/tomcat sources (TestRecordSetters) and
// checked against the installed jars (TestRecordedSettersMatchTheJars).
//
//go:embed setters/*.txt
var recordedFiles embed.FS

var (
	recordedMu  sync.Mutex
	recordedSet = map[string]map[string]setterSet{}
)

// recordedSetters are one recorded release's classes and their setters; nil when the
// release is not recorded.
func recordedSetters(tag string) map[string]setterSet {
	recordedMu.Lock()
	defer recordedMu.Unlock()
	if m, ok := recordedSet[tag]; ok {
		return m
	}
	f, err := recordedFiles.Open("setters/" + tag + ".txt")
	if err != nil {
		recordedSet[tag] = nil
		return nil
	}
	defer f.Close()
	m := map[string]setterSet{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		s := setterSet{Setters: map[string]bool{}}
		for _, w := range fields[1:] {
			if w == "*" {
				s.Any = true
			} else {
				s.Setters[w] = true
			}
		}
		m[fields[0]] = s
	}
	recordedSet[tag] = m
	return m
}

// otherSeriesWith names the recorded releases of other series whose class has the
// setter an attribute names: an attribute from a configuration written for another
// Tomcat ("Tomcat 8.5.100 had it").
func otherSeriesWith(class, attr string, v Version) []string {
	var out []string
	for _, tag := range recordedTags {
		rv, _ := ParseVersion(tag)
		if rv.Series() == v.Series() {
			continue
		}
		if s, ok := recordedSetters(tag)[class]; ok && s.Setters[capitalize(attr)] {
			out = append(out, tag)
		}
	}
	return out
}

// recordedTags are the releases whose setters are recorded, oldest first.
var recordedTags = []string{"7.0.109", "8.5.100", "9.0.121", "10.1.59", "11.0.25"}
