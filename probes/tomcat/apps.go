package tomcat

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
)

// App is one web application a host deploys, and whether Tomcat will replicate its
// sessions: it is distributable (its web.xml says so and no web fragment it merges says
// otherwise) and the manager it gets is the cluster's (no <Manager> in its context
// configuration replaces it).
type App struct {
	Host string
	// Path is the context path: "/" for ROOT, "/shop" for shop.war.
	Path string
	// Source is the descriptor, WAR or directory it is deployed from; DocBase the WAR or
	// directory its classes come from.
	Source, DocBase string
	// WebXML is the application's deployment descriptor (nil when it has none).
	WebXML    *conf.WebXML
	WebXMLErr error
	// BlockingFragment is a web fragment that is not distributable and so makes the
	// whole application not distributable.
	BlockingFragment *conf.WebXML
	// Manager is the <Manager> of its context configuration that Tomcat keeps (the last
	// of conf/context.xml, context.xml.default, its own), nil when none.
	Manager *conf.Element
	// Cluster covers the application (engine-level, or its host's own).
	Cluster bool
	// Bundled marks Tomcat's own applications (manager, host-manager, docs, examples).
	Bundled bool
}

// Distributable is Tomcat's verdict on <distributable/>.
func (a *App) Distributable() bool {
	return a.WebXML != nil && a.WebXML.Distributable && a.BlockingFragment == nil
}

// Replicates reports whether sessions of the application are replicated.
func (a *App) Replicates() bool {
	return a.Cluster && a.Distributable() && (a.Manager == nil || isClusterManager(conf.ClassName(a.Manager)))
}

// isClusterManager tells the cluster's managers from StandardManager and
// PersistentManager, which keep sessions to themselves.
func isClusterManager(class string) bool {
	return strings.HasPrefix(class, "org.apache.catalina.ha.session.")
}

// bundledApps ship with Tomcat and are not distributable; they say nothing about the
// cluster and are listed apart.
var bundledApps = map[string]bool{"/manager": true, "/host-manager": true, "/docs": true, "/examples": true}

// Limits on reading applications.
const (
	maxApps       = 500
	maxWebXML     = 4 << 20
	maxNestedJar  = 64 << 20 // a WEB-INF/lib jar inside a WAR is inflated to be read
	maxFragments  = 2000
	webXMLEntry   = "WEB-INF/web.xml"
	contextEntry  = "META-INF/context.xml"
	fragmentEntry = "META-INF/web-fragment.xml"
)

// Apps lists the applications of every host of the instance, read once per run.
func (in *Instance) Apps() ([]*App, error) {
	in.appsOnce.Do(func() { in.apps, in.appsErr = in.loadApps() })
	return in.apps, in.appsErr
}

func (in *Instance) loadApps() ([]*App, error) {
	if in.Server == nil {
		return nil, in.Err
	}
	var out []*App
	for _, e := range in.Engines() {
		for _, h := range e.Hosts {
			apps, err := in.hostApps(e, h)
			if err != nil {
				return out, err
			}
			out = append(out, apps...)
		}
	}
	return out, nil
}

// hostApps follows HostConfig's deployment order: Context elements of server.xml, then
// descriptors in the host's config base, then WARs and directories in its appBase.
func (in *Instance) hostApps(e *conf.Engine, h *conf.Host) ([]*App, error) {
	covered := e.Cluster() != nil || h.Cluster() != nil
	appBase := in.abs(h.AppBase)
	configBase := in.abs(h.XMLBase)
	if h.XMLBase == "" {
		configBase = filepath.Join(in.Base, "conf", e.Name, h.Name)
	}
	var ignore *regexp.Regexp
	if h.DeployIgnore != "" {
		ignore, _ = regexp.Compile("^(?:" + h.DeployIgnore + ")$")
	}
	defaults := in.contextDefaults(configBase)
	byPath := map[string]*App{}
	var apps []*App
	add := func(path, source, docBase string, own *conf.Element) {
		if _, dup := byPath[path]; dup || len(apps) >= maxApps {
			return
		}
		a := &App{Host: h.Name, Path: path, Source: source, DocBase: docBase, Cluster: covered, Bundled: bundledApps[path]}
		mgrs := append([]*conf.Element(nil), defaults...)
		if own != nil {
			if m := own.Child("Manager"); m != nil {
				mgrs = append(mgrs, m)
			}
			if conf.BoolAttr(own, "override", false) {
				mgrs = ownManagers(own)
			}
		}
		if docBase != "" {
			in.readApp(a, docBase, own == nil, &mgrs)
		}
		if len(mgrs) > 0 {
			a.Manager = mgrs[len(mgrs)-1]
		}
		byPath[path] = a
		apps = append(apps, a)
	}
	for _, c := range h.Contexts {
		doc := c.Value("docBase")
		add(contextPath(c.Value("path")), c.Pos(), in.docBase(appBase, doc), c)
	}
	if ents, err := os.ReadDir(in.env.HostPath(configBase)); err == nil {
		for _, d := range ents {
			name, ok := strings.CutSuffix(d.Name(), ".xml")
			if !ok || d.IsDir() {
				continue
			}
			file := filepath.Join(configBase, d.Name())
			own, err := in.readXML(file)
			if err != nil {
				a := &App{Host: h.Name, Path: nameToPath(name), Source: file, Cluster: covered, WebXMLErr: err}
				apps = append(apps, a)
				byPath[a.Path] = a
				continue
			}
			doc := own.Value("docBase")
			if doc == "" {
				doc = name
			}
			add(nameToPath(name), file, in.docBase(appBase, doc), own)
		}
	}
	ents, _ := os.ReadDir(in.env.HostPath(appBase))
	names := map[string]string{} // app name -> directory or WAR, the directory preferred
	for _, d := range ents {
		name := d.Name()
		if strings.HasPrefix(name, ".") || (ignore != nil && ignore.MatchString(name)) {
			continue
		}
		switch {
		case d.IsDir() && name != "META-INF" && name != "WEB-INF":
			names[name] = filepath.Join(appBase, name)
		case strings.HasSuffix(strings.ToLower(name), ".war"):
			base := name[:len(name)-4]
			if _, dir := names[base]; !dir {
				names[base] = filepath.Join(appBase, name)
			}
		}
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(nameToPath(k), names[k], names[k], nil)
	}
	sort.SliceStable(apps, func(i, j int) bool { return apps[i].Path < apps[j].Path })
	return apps, nil
}

// contextDefaults are the <Manager> elements of conf/context.xml and the host's
// context.xml.default, which every application's context starts from.
func (in *Instance) contextDefaults(configBase string) []*conf.Element {
	var out []*conf.Element
	for _, f := range []string{filepath.Join(in.Base, "conf", "context.xml"), filepath.Join(configBase, "context.xml.default")} {
		root, err := in.readXML(f)
		if err != nil {
			continue
		}
		out = append(out, ownManagers(root)...)
	}
	return out
}

func ownManagers(ctx *conf.Element) []*conf.Element {
	if m := ctx.Child("Manager"); m != nil {
		return []*conf.Element{m}
	}
	return nil
}

// readApp reads an application's web.xml, its web fragments and (when its context has
// no descriptor of its own) its META-INF/context.xml, from a directory or a WAR.
func (in *Instance) readApp(a *App, docBase string, withContextXML bool, mgrs *[]*conf.Element) {
	var src appSource
	st, err := os.Stat(in.env.HostPath(docBase))
	switch {
	case err != nil:
		a.WebXMLErr = fmt.Errorf("%s: %w", docBase, err)
		return
	case st.IsDir():
		src = dirSource{in: in, dir: docBase}
	default:
		z, err := zip.OpenReader(in.env.HostPath(docBase))
		if err != nil {
			a.WebXMLErr = fmt.Errorf("%s: %w", docBase, err)
			return
		}
		defer z.Close()
		src = zipSource{r: &z.Reader, name: docBase}
	}
	if withContextXML {
		if b, name, err := src.read(contextEntry, maxWebXML); err == nil {
			if root, err := conf.ParseXML(bytes.NewReader(b), name, nil); err == nil {
				root = conf.Resolve(root, in.Props.Lookup)
				*mgrs = append(*mgrs, ownManagers(root)...)
			}
		}
	}
	b, name, err := src.read(webXMLEntry, maxWebXML)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			a.WebXMLErr = err
		}
		return
	}
	if a.WebXML, a.WebXMLErr = conf.ParseWebXML(bytes.NewReader(b), name); a.WebXMLErr != nil {
		return
	}
	if a.WebXML.MetadataComplete || !a.WebXML.Distributable {
		return // fragments are not merged, or cannot change the verdict
	}
	for i, jar := range src.libJars() {
		if i >= maxFragments {
			break
		}
		frag := src.fragment(jar)
		if frag == nil || frag.Distributable {
			continue
		}
		name := frag.Name
		if a.WebXML.Ordering.Admits(name) {
			a.BlockingFragment = frag
			return
		}
	}
}

// appSource is an application directory or WAR.
type appSource interface {
	read(entry string, limit int64) ([]byte, string, error)
	libJars() []string
	fragment(jar string) *conf.WebXML
}

type dirSource struct {
	in  *Instance
	dir string
}

func (d dirSource) read(entry string, limit int64) ([]byte, string, error) {
	p := filepath.Join(d.dir, entry)
	b, err := readHost(d.in.env, p, limit)
	return b, p, err
}

func (d dirSource) libJars() []string {
	lib := filepath.Join(d.dir, "WEB-INF", "lib")
	ents, _ := os.ReadDir(d.in.env.HostPath(lib))
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(strings.ToLower(e.Name()), ".jar") {
			out = append(out, filepath.Join(lib, e.Name()))
		}
	}
	return out
}

func (d dirSource) fragment(jar string) *conf.WebXML {
	z, err := zip.OpenReader(d.in.env.HostPath(jar))
	if err != nil {
		return nil
	}
	defer z.Close()
	return fragmentOf(&z.Reader, jar)
}

type zipSource struct {
	r    *zip.Reader
	name string
}

func (z zipSource) read(entry string, limit int64) ([]byte, string, error) {
	b, err := zipEntry(z.r, entry, limit)
	return b, z.name + "!/" + entry, err
}

func (z zipSource) libJars() []string {
	var out []string
	for _, f := range z.r.File {
		if strings.HasPrefix(f.Name, "WEB-INF/lib/") && strings.HasSuffix(strings.ToLower(f.Name), ".jar") {
			out = append(out, f.Name)
		}
	}
	return out
}

func (z zipSource) fragment(jar string) *conf.WebXML {
	b, err := zipEntry(z.r, jar, maxNestedJar)
	if err != nil {
		return nil
	}
	nested, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil
	}
	return fragmentOf(nested, z.name+"!/"+jar)
}

func fragmentOf(r *zip.Reader, jar string) *conf.WebXML {
	b, err := zipEntry(r, fragmentEntry, maxWebXML)
	if err != nil {
		return nil
	}
	w, err := conf.ParseWebXML(bytes.NewReader(b), jar+"!/"+fragmentEntry)
	if err != nil {
		return nil
	}
	return w
}

func zipEntry(r *zip.Reader, name string, limit int64) ([]byte, error) {
	f, err := r.Open(name)
	if err != nil {
		return nil, os.ErrNotExist
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, limit)
	}
	return b, nil
}

// readXML reads a context file with the instance's properties replaced.
func (in *Instance) readXML(file string) (*conf.Element, error) {
	b, err := readHost(in.env, file, maxFile)
	if err != nil {
		return nil, err
	}
	root, err := conf.ParseXML(bytes.NewReader(b), file, nil)
	if err != nil {
		return nil, err
	}
	return conf.Resolve(root, in.Props.Lookup), nil
}

// abs makes a server.xml path absolute against CATALINA_BASE, as Tomcat does.
func (in *Instance) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(in.Base, p)
}

func (in *Instance) docBase(appBase, doc string) string {
	if doc == "" {
		return ""
	}
	if filepath.IsAbs(doc) {
		return doc
	}
	return filepath.Join(appBase, doc)
}

// nameToPath turns a deployment name into a context path: ROOT is "/", '#' is '/', and
// a "##version" suffix is a parallel-deployment version, not part of the path.
func nameToPath(name string) string {
	name, _, _ = strings.Cut(name, "##")
	if name == "ROOT" || name == "" {
		return "/"
	}
	return "/" + strings.ReplaceAll(name, "#", "/")
}

func contextPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
