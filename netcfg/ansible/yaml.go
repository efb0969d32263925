package ansible

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// parseYAML reads the YAML form: top-level groups (usually "all"), each a mapping of
// hosts (host name to its variables, or nothing), vars and children (group name to group).
func (inv *Inventory) parseYAML(text string) error {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return &Error{top.Line, "an inventory's top level maps group names (all:) to groups"}
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if err := inv.yamlGroup(top.Content[i].Value, top.Content[i+1], 0); err != nil {
			return err
		}
	}
	return nil
}

// maxDepth bounds child-group nesting, so that a hostile file cannot recurse without end.
const maxDepth = 64

func (inv *Inventory) yamlGroup(name string, n *yaml.Node, depth int) error {
	if depth > maxDepth {
		return &Error{n.Line, fmt.Sprintf("groups nested deeper than %d", maxDepth)}
	}
	g := inv.group(name)
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "") {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return &Error{n.Line, fmt.Sprintf("group %s: want a mapping of hosts, vars and children", name)}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if isNull(val) {
			continue
		}
		switch key.Value {
		case "hosts":
			if val.Kind != yaml.MappingNode {
				return &Error{val.Line, fmt.Sprintf("group %s: hosts: want host names as keys", name)}
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				names, err := expandRange(val.Content[j].Value)
				if err != nil {
					return &Error{val.Content[j].Line, fmt.Sprintf("host %s: %v", val.Content[j].Value, err)}
				}
				vars, err := scalars(val.Content[j+1], "host "+val.Content[j].Value)
				if err != nil {
					return err
				}
				for _, hn := range names {
					h := inv.host(hn, val.Content[j].Line)
					for k, v := range vars {
						h.Vars[k] = v
					}
					inv.addToGroup(g, hn)
				}
			}
		case "vars":
			vars, err := scalars(val, "group "+name+" vars")
			if err != nil {
				return err
			}
			for k, v := range vars {
				g.Vars[k] = v
			}
		case "children":
			if val.Kind != yaml.MappingNode {
				return &Error{val.Line, fmt.Sprintf("group %s: children: want group names as keys", name)}
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				child := val.Content[j].Value
				inv.group(child)
				if !slices.Contains(g.Children, child) {
					g.Children = append(g.Children, child)
				}
				if err := inv.yamlGroup(child, val.Content[j+1], depth+1); err != nil {
					return err
				}
			}
		default:
			return &Error{key.Line, fmt.Sprintf("group %s: %q is not hosts, vars or children", name, key.Value)}
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "" && n.Style == 0)
}

// scalars reads a mapping of variables; values that are not scalars (lists, mappings)
// are kept as their YAML text, which is all a cluster inventory's connection variables need.
func scalars(n *yaml.Node, what string) (map[string]string, error) {
	out := map[string]string{}
	if isNull(n) {
		return out, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, &Error{n.Line, what + ": want key: value pairs"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		if v.Kind == yaml.ScalarNode {
			out[n.Content[i].Value] = v.Value
			continue
		}
		b, err := yaml.Marshal(v)
		if err != nil {
			return nil, &Error{v.Line, fmt.Sprintf("%s: %s: %v", what, n.Content[i].Value, err)}
		}
		out[n.Content[i].Value] = strings.TrimSpace(string(b))
	}
	return out, nil
}
