package tomcat

import (
	"archive/zip"
	"os"
	"path/filepath"
	"testing"
)

// TestContentSameForWARAndDirectory: a WAR and the directory Tomcat unpacks it to have
// one digest; a jar that differs is named by its fingerprint, a class by its path.
func TestContentSameForWARAndDirectory(t *testing.T) {
	files := map[string]string{
		"WEB-INF/web.xml":                 "<web-app/>",
		"WEB-INF/classes/shop/Cart.class": "cafebabe cart v1",
		"WEB-INF/classes/app.properties":  "a=1",
		"WEB-INF/lib/commons-lang3-3.jar": "jar bytes",
		"WEB-INF/lib/shop-model-1.0.jar":  "model v1",
		"index.jsp":                       "<%= 1 %>",
	}
	dir := t.TempDir()
	war := filepath.Join(dir, "shop.war")
	unpacked := filepath.Join(dir, "shop")
	f, _ := os.Create(war)
	z := zip.NewWriter(f)
	for name, body := range files {
		w, _ := z.Create(name)
		w.Write([]byte(body))
		p := filepath.Join(unpacked, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	z.Close()
	f.Close()
	fromWAR, fromDir := map[string]string{}, map[string]string{}
	if _, err := warFingerprints(war, fromWAR); err != nil {
		t.Fatal(err)
	}
	if _, err := dirFingerprints(unpacked, fromDir); err != nil {
		t.Fatal(err)
	}
	a, b := summarize(fromWAR, ""), summarize(fromDir, "")
	if a.Digest != b.Digest || a.Files != 4 || len(a.Libs) != 2 || len(a.Classes) != 2 {
		t.Fatalf("WAR %+v, directory %+v", a, b)
	}
	os.WriteFile(filepath.Join(unpacked, "WEB-INF/lib/shop-model-1.0.jar"), []byte("model v2"), 0o644)
	os.WriteFile(filepath.Join(unpacked, "WEB-INF/classes/shop/Cart.class"), []byte("cafebabe cart v2"), 0o644)
	changed := map[string]string{}
	dirFingerprints(unpacked, changed)
	c := summarize(changed, "")
	if c.Digest == a.Digest || c.Libs["shop-model-1.0.jar"] == a.Libs["shop-model-1.0.jar"] || c.Libs["commons-lang3-3.jar"] != a.Libs["commons-lang3-3.jar"] ||
		c.Classes["shop/Cart.class"] == a.Classes["shop/Cart.class"] || c.ClassesDigest == a.ClassesDigest {
		t.Errorf("changed: %+v\nwas %+v", c, a)
	}
}
