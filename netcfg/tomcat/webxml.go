package tomcat

import (
	"fmt"
	"io"
	"strings"
)

// WebXML is what decides whether a web application replicates its sessions, from a
// deployment descriptor (WEB-INF/web.xml) or a web fragment (META-INF/web-fragment.xml
// in a WEB-INF/lib jar).
type WebXML struct {
	File string
	// Fragment is true for a web-fragment.xml.
	Fragment bool
	// Distributable is true when <distributable/> is present; Line is where.
	Distributable     bool
	DistributableLine int
	// MetadataComplete is the metadata-complete attribute: true means Tomcat merges no
	// fragment into this descriptor.
	MetadataComplete bool
	// Name is a fragment's <name>, "" when it has none.
	Name string
	// Ordering is the descriptor's <absolute-ordering>, nil when it has none.
	Ordering *AbsoluteOrdering
}

// AbsoluteOrdering lists the fragments a web.xml admits, in order; with Others, every
// fragment not named is admitted too.
type AbsoluteOrdering struct {
	Names  []string
	Others bool
}

// Admits reports whether the ordering lets the named fragment in (an unnamed fragment
// only through <others/>).
func (o *AbsoluteOrdering) Admits(name string) bool {
	if o == nil {
		return true
	}
	for _, n := range o.Names {
		if n == name && name != "" {
			return true
		}
	}
	return o.Others
}

// ParseWebXML reads a web.xml or web-fragment.xml.
func ParseWebXML(r io.Reader, file string) (*WebXML, error) {
	root, err := ParseXML(r, file, nil)
	if err != nil {
		return nil, err
	}
	w := &WebXML{File: file}
	switch root.Name {
	case "web-app":
	case "web-fragment":
		w.Fragment = true
		if n := root.Child("name"); n != nil {
			w.Name = n.Text
		}
	default:
		return nil, &ParseError{File: file, Line: root.Line, Err: fmt.Errorf("root element is <%s>, want <web-app> or <web-fragment>", root.Name)}
	}
	if d := root.Child("distributable"); d != nil {
		w.Distributable, w.DistributableLine = true, d.Line
	}
	w.MetadataComplete = strings.EqualFold(strings.TrimSpace(root.Value("metadata-complete")), "true")
	if o := root.Child("absolute-ordering"); o != nil && !w.Fragment {
		w.Ordering = &AbsoluteOrdering{}
		for _, c := range o.Children {
			switch c.Name {
			case "name":
				w.Ordering.Names = append(w.Ordering.Names, c.Text)
			case "others":
				w.Ordering.Others = true
			}
		}
	}
	return w, nil
}
