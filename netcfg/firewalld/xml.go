package firewalld

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The zone and service files of firewalld's permanent configuration (firewalld.zone(5),
// firewalld.service(5)), read when firewalld is not running. Only what decides inbound
// traffic is kept; a rich rule is turned back into the one-line form firewall-cmd prints.

type xmlName struct {
	Name string `xml:"name,attr"`
}

type xmlPort struct {
	Port     string `xml:"port,attr"`
	Protocol string `xml:"protocol,attr"`
}

type xmlAddr struct {
	Address string `xml:"address,attr"`
	MAC     string `xml:"mac,attr"`
	IPSet   string `xml:"ipset,attr"`
	Invert  string `xml:"invert,attr"`
}

type xmlZone struct {
	XMLName   xml.Name
	Target    string    `xml:"target,attr"`
	Services  []xmlName `xml:"service"`
	Ports     []xmlPort `xml:"port"`
	Protocols []struct {
		Value string `xml:"value,attr"`
	} `xml:"protocol"`
	Interfaces []xmlName `xml:"interface"`
	Sources    []xmlAddr `xml:"source"`
	Rules      []xmlRule `xml:"rule"`
}

type xmlService struct {
	XMLName   xml.Name
	Ports     []xmlPort `xml:"port"`
	Protocols []struct {
		Value string `xml:"value,attr"`
	} `xml:"protocol"`
	Includes []struct {
		Service string `xml:"service,attr"`
	} `xml:"include"`
	Destination *struct {
		IPv4 string `xml:"ipv4,attr"`
		IPv6 string `xml:"ipv6,attr"`
	} `xml:"destination"`
}

// xmlRule keeps a rich rule's elements in document order.
type xmlRule struct {
	Family   string    `xml:"family,attr"`
	Priority string    `xml:"priority,attr"`
	Elems    []xmlElem `xml:",any"`
}

type xmlElem struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
}

// ParseZone reads a zone file.
func ParseZone(r io.Reader) (*Zone, error) {
	var x xmlZone
	if err := decode(r, &x, "zone"); err != nil {
		return nil, err
	}
	z := &Zone{Target: "default"}
	if x.Target != "" && x.Target != "%%REJECT%%" {
		z.Target = x.Target
	}
	for _, s := range x.Services {
		z.Services = append(z.Services, s.Name)
	}
	ports, protocols, err := portsFrom(x.Ports)
	if err != nil {
		return nil, err
	}
	z.Ports, z.Protocols = ports, protocols
	for _, p := range x.Protocols {
		z.Protocols = append(z.Protocols, p.Value)
	}
	for _, i := range x.Interfaces {
		z.Interfaces = append(z.Interfaces, i.Name)
	}
	for _, s := range x.Sources {
		switch {
		case s.Address != "":
			z.Sources = append(z.Sources, s.Address)
		case s.IPSet != "":
			z.Sources = append(z.Sources, "ipset:"+s.IPSet)
		case s.MAC != "":
			z.Sources = append(z.Sources, s.MAC)
		}
	}
	for _, r := range x.Rules {
		z.Rules = append(z.Rules, r.String())
	}
	return z, nil
}

// ParseService reads a service file.
func ParseService(r io.Reader) (*Service, error) {
	var x xmlService
	if err := decode(r, &x, "service"); err != nil {
		return nil, err
	}
	s := &Service{}
	ports, protocols, err := portsFrom(x.Ports)
	if err != nil {
		return nil, err
	}
	s.Ports, s.Protocols = ports, protocols
	for _, p := range x.Protocols {
		s.Protocols = append(s.Protocols, p.Value)
	}
	for _, i := range x.Includes {
		s.Includes = append(s.Includes, i.Service)
	}
	if d := x.Destination; d != nil {
		s.Destination = map[string]string{}
		if d.IPv4 != "" {
			s.Destination["ipv4"] = d.IPv4
		}
		if d.IPv6 != "" {
			s.Destination["ipv6"] = d.IPv6
		}
	}
	return s, nil
}

func decode(r io.Reader, into any, root string) error {
	d := xml.NewDecoder(r)
	d.Strict = true
	if err := d.Decode(into); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("no <%s> element", root)
		}
		return fmt.Errorf("not well-formed XML: %w", err)
	}
	var name string
	switch x := into.(type) {
	case *xmlZone:
		name = x.XMLName.Local
	case *xmlService:
		name = x.XMLName.Local
	}
	if name != root {
		return fmt.Errorf("root element is <%s>, want <%s>", name, root)
	}
	return nil
}

// portsFrom splits <port> elements into ports and, as firewalld does for an empty
// port= (ipsec's protocol="ah" port=""), whole protocols.
func portsFrom(xs []xmlPort) (ports []PortProto, protocols []string, err error) {
	for _, p := range xs {
		switch {
		case p.Protocol == "":
			return nil, nil, fmt.Errorf("<port port=%q> has no protocol=", p.Port)
		case p.Port == "":
			protocols = append(protocols, p.Protocol)
		default:
			ports = append(ports, PortProto{Port: p.Port, Proto: p.Protocol})
		}
	}
	return ports, protocols, nil
}

// String is the rule as firewall-cmd --list-rich-rules prints it.
func (r xmlRule) String() string {
	var b strings.Builder
	b.WriteString("rule")
	if r.Family != "" {
		fmt.Fprintf(&b, " family=%s", strconv.Quote(r.Family))
	}
	if r.Priority != "" && r.Priority != "0" {
		fmt.Fprintf(&b, " priority=%s", strconv.Quote(r.Priority))
	}
	for _, e := range r.Elems {
		b.WriteString(" " + e.XMLName.Local)
		for _, a := range e.Attrs {
			if a.Name.Local == "invert" {
				if strings.EqualFold(a.Value, "true") || a.Value == "1" {
					b.WriteString(" not")
				}
				continue
			}
		}
		for _, a := range e.Attrs {
			if a.Name.Local != "invert" {
				fmt.Fprintf(&b, " %s=%s", a.Name.Local, strconv.Quote(a.Value))
			}
		}
	}
	return b.String()
}
