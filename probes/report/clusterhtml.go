package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/cluster"
)

//go:embed cluster.html.tmpl
var clusterPage string

var clusterTemplate = template.Must(template.New("cluster").Funcs(template.FuncMap{
	"upper":    strings.ToUpper,
	"join":     strings.Join,
	"hostLine": hostLine,
	"seconds":  func(ms int64) string { return fmt.Sprintf("%.1f s", float64(ms)/1000) },
	"open":     func(h drawnHost) bool { return h.Outcome != "ok" },
	"shown":    func(c probes.Result) bool { return c.Status != probes.Pass && c.Status != probes.Skip },
}).Parse(clusterPage))

// ClusterHTML writes one self-contained page (no script, nothing fetched): the verdict and
// the causes first, then a drawing of the cluster (the web tier above the Tomcats, the
// balancer's edges to them, the heartbeats and replication between them, each edge and
// host with its outcome in words as well as colour, and the cause it belongs to), then
// every path and each host's checks.
func ClusterHTML(w io.Writer, rep *cluster.Report) error {
	pic := rep.Picture()
	return clusterTemplate.Execute(w, clusterView{Report: rep, Findings: len(rep.Findings()), Drawing: layout(pic)})
}

type clusterView struct {
	*cluster.Report
	Findings int
	Drawing  drawing
}

// drawing is the picture with coordinates, in SVG user units.
type drawing struct {
	Width, Height int
	Hosts         []drawnHost
	Edges         []drawnEdge
}

type drawnHost struct {
	cluster.PictureHost
	X, Y, W, H int
}

// State is what the host's box says in words.
func (h drawnHost) State() string {
	switch h.Outcome {
	case "cause":
		return "CAUSE: " + strings.Join(h.Causes, ", ")
	case "symptom":
		return "affected (cause elsewhere)"
	case "unreached":
		return "NOT REACHED"
	}
	return "ok"
}

type drawnEdge struct {
	cluster.Edge
	// Path is the SVG path; LX, LY where its label goes, Anchor how it hangs there.
	Path   string
	LX, LY int
	Anchor string
}

// Text is the edge's label: what it is and its outcome, in words.
func (e drawnEdge) Text() string {
	switch e.Outcome {
	case "fail":
		return e.Label + ": FAIL (" + strings.Join(e.Causes, "; ") + ")"
	case "untested":
		return e.Label + ": not tested"
	}
	return e.Label + ": ok"
}

// Lines are the edge's label in the drawing: what it is and its outcome, then each cause.
func (e drawnEdge) Lines() []string {
	switch e.Outcome {
	case "fail":
		return append([]string{e.Short + ": FAIL"}, e.Causes...)
	case "untested":
		return []string{e.Short + ": not tested"}
	}
	return []string{e.Short + ": ok"}
}

const (
	boxW, boxH = 200, 68
	gap        = 60
	margin     = 110 // room for the labels of the outermost edges
	webY, wasY = 30, 250
)

// layout places the web hosts in the upper row and the Tomcat hosts in the lower, the
// balancer's edges between the rows and the paths between Tomcats as arcs below them,
// deeper the farther apart the two are, the replication arc below the heartbeats'.
func layout(p cluster.Picture) drawing {
	cols := max(len(p.Web), len(p.WAS), 2)
	d := drawing{Width: cols*(boxW+gap) + gap + 2*margin}
	at := map[string]*drawnHost{}
	row := func(hosts []cluster.PictureHost, y int) {
		x := (d.Width - len(hosts)*(boxW+gap) + gap) / 2
		for _, h := range hosts {
			d.Hosts = append(d.Hosts, drawnHost{PictureHost: h, X: x, Y: y, W: boxW, H: boxH})
			x += boxW + gap
		}
	}
	row(p.Web, webY)
	row(p.WAS, wasY)
	for i := range d.Hosts {
		at[d.Hosts[i].Name] = &d.Hosts[i]
	}
	bottom := wasY + boxH
	spread := 0
	// parallel edges (mod_jk and nginx to one Tomcat) are drawn side by side, their
	// labels at different heights
	pairs, nth := map[string]int{}, make([]int, len(p.Edges))
	for i, e := range p.Edges {
		if e.Kind == "ajp" || e.Kind == "http" {
			nth[i] = pairs[e.From+" "+e.To]
			pairs[e.From+" "+e.To]++
		}
	}
	for i, e := range p.Edges {
		a, b := at[e.From], at[e.To]
		if a == nil || b == nil {
			continue
		}
		de := drawnEdge{Edge: e, Anchor: "middle"}
		switch e.Kind {
		case "ajp", "http":
			// from the web host's bottom to the Tomcat's top; the label beside the
			// line, on the side it leans to
			k, n := nth[i], pairs[e.From+" "+e.To]
			shift := (2*k - n + 1) * 14
			x1, y1, x2, y2 := a.X+boxW/2+shift, a.Y+boxH, b.X+boxW/2+shift, b.Y
			de.Path = fmt.Sprintf("M%d,%d L%d,%d", x1, y1, x2, y2)
			t := 0.3 + 0.25*float64(k)
			de.LX, de.LY = x1+int(t*float64(x2-x1)), y1+int(t*float64(y2-y1))
			switch {
			case x2 < x1-10:
				de.Anchor, de.LX = "end", de.LX-10
			case x2 > x1+10:
				de.Anchor, de.LX = "start", de.LX+10
			}
		default:
			x1, x2 := a.X+boxW/2, b.X+boxW/2
			if x1 > x2 {
				x1, x2 = x2, x1
			}
			span := (x2 - x1) / (boxW + gap)
			depth := 34 + 26*span
			if e.Kind == "replication" {
				x1, x2, depth = x1+12, x2-12, depth+40
			}
			de.Path = fmt.Sprintf("M%d,%d Q%d,%d %d,%d", x1, bottom, (x1+x2)/2, bottom+2*depth, x2, bottom)
			de.LX, de.LY = (x1+x2)/2, bottom+depth+4
			spread = max(spread, depth)
		}
		d.Edges = append(d.Edges, de)
	}
	d.Height = bottom + spread + 40
	return d
}
