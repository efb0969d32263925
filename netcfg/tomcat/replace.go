package tomcat

import "strings"

// maxReplaceRounds is IntrospectionUtils' own limit on re-expanding a replaced value.
const maxReplaceRounds = 20

// Lookup finds a property (a JVM system property, as Tomcat's digester asks).
type Lookup func(name string) (string, bool)

// Replace applies Tomcat's ${name} replacement (IntrospectionUtils.replaceProperties, as
// the digester calls it on every attribute of server.xml and context.xml): ${name} is the
// property's value; ${name:-default} the value of the property "name:-default", else of
// "name", else default; an unknown name without a default stays as written. The name ends
// at the first '}', and a result that still holds "${" is expanded again, 20 times at most.
// used lists the names that were found.
func Replace(value string, lookup Lookup) (out string, used []string) {
	for round := 0; round < maxReplaceRounds && strings.Contains(value, "${"); round++ {
		next, names := replaceOnce(value, lookup)
		used = append(used, names...)
		if next == value {
			break
		}
		value = next
	}
	return value, used
}

func replaceOnce(value string, lookup Lookup) (string, []string) {
	var b strings.Builder
	var used []string
	for {
		pos := strings.IndexByte(value, '$')
		if pos < 0 {
			b.WriteString(value)
			break
		}
		b.WriteString(value[:pos])
		if pos+1 == len(value) || value[pos+1] != '{' {
			b.WriteByte('$')
			value = value[pos+1:]
			continue
		}
		end := strings.IndexByte(value[pos:], '}')
		if end < 0 {
			b.WriteString(value[pos:])
			break
		}
		name := value[pos+2 : pos+end]
		value = value[pos+end+1:]
		if v, ok := lookup(name); ok {
			b.WriteString(v)
			used = append(used, name)
			continue
		}
		if key, def, ok := strings.Cut(name, ":-"); ok {
			if v, ok := lookup(key); ok {
				b.WriteString(v)
				used = append(used, key)
			} else {
				b.WriteString(def)
			}
			continue
		}
		b.WriteString("${" + name + "}")
	}
	return b.String(), used
}
