package tomcat

import (
	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
)

// Props are the JVM system properties that Tomcat's ${...} replacement sees, each with
// where it came from, so a finding can say "port=${cluster.port} is 4010 from
// conf/catalina.properties:12".
type Props struct {
	m map[string]Prop
}

// Prop is one system property.
type Prop struct {
	Value string
	// From says where it was set: "conf/catalina.properties:12", "pid 4242 command line",
	// "bin/setenv.sh", "catalina.sh".
	From string
}

func newProps() *Props { return &Props{m: map[string]Prop{}} }

// Set defines or overrides a property.
func (p *Props) Set(name, value, from string) { p.m[name] = Prop{Value: value, From: from} }

// Get returns a property.
func (p *Props) Get(name string) (Prop, bool) {
	v, ok := p.m[name]
	return v, ok
}

// Lookup is the property source Tomcat's digester uses (SystemPropertySource).
func (p *Props) Lookup(name string) (string, bool) {
	v, ok := p.m[name]
	return v.Value, ok
}

// Replace applies Tomcat's ${...} replacement to s.
func (p *Props) Replace(s string) string {
	out, _ := conf.Replace(s, p.Lookup)
	return out
}

// Sources names where the properties used in a raw value came from.
func (p *Props) Sources(raw string) []string {
	_, used := conf.Replace(raw, p.Lookup)
	var out []string
	for _, name := range used {
		if v, ok := p.m[name]; ok {
			out = append(out, "${"+name+"} from "+v.From)
		}
	}
	return out
}

// propOf is a system property of the instance's JVM, where its properties are known.
func (in *Instance) propOf(name string) (Prop, bool) {
	if in.Props == nil {
		return Prop{}, false
	}
	return in.Props.Get(name)
}
