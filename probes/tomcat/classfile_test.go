package tomcat

import (
	"archive/zip"
	"io"
	"os"
	"testing"
)

// FuzzParseClass: any bytes give a class or an error, never a panic; the seeds are real
// class files from the installed Tomcat where there is one.
func FuzzParseClass(f *testing.F) {
	f.Add([]byte{0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 61, 0, 1})
	if z, err := zip.OpenReader("/usr/share/tomcat10/lib/catalina-tribes.jar"); err == nil {
		for _, name := range []string{"org/apache/catalina/tribes/transport/nio/NioReceiver.class", "org/apache/catalina/tribes/membership/McastService.class"} {
			if r, err := z.Open(name); err == nil {
				b, _ := io.ReadAll(r)
				r.Close()
				f.Add(b)
			}
		}
		z.Close()
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ci, err := parseClass(b)
		if err == nil && ci.Name == "" {
			t.Fatal("a class without a name")
		}
	})
}

// TestParseClass: a real class file's setters and superclass.
func TestParseClass(t *testing.T) {
	z, err := zip.OpenReader("/usr/share/tomcat10/lib/catalina-tribes.jar")
	if err != nil {
		if os.IsNotExist(err) {
			t.Skip("skipped: Tomcat 10 is not installed (the README's test command installs it)")
		}
		t.Fatal(err)
	}
	defer z.Close()
	r, err := z.Open("org/apache/catalina/tribes/transport/ReceiverBase.class")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	ci, err := parseClass(b)
	if err != nil {
		t.Fatal(err)
	}
	if ci.Name != "org.apache.catalina.tribes.transport.ReceiverBase" || ci.Super != "" {
		t.Errorf("class %s extends %s; want ReceiverBase of Object", ci.Name, ci.Super)
	}
	if !ci.Setters["SelectorTimeout"] || !ci.Setters["AutoBind"] || !ci.Setters["Bind"] || ci.Setters["MessageListener"] {
		t.Errorf("setters %v: want SelectorTimeout (long), AutoBind (int), Bind (InetAddress), not MessageListener (an object)", ci.Setters)
	}
	for _, cut := range []int{0, 4, 10, 100, len(b) / 2, len(b) - 1} {
		if _, err := parseClass(b[:cut]); err == nil {
			t.Errorf("a class file cut at %d bytes parsed", cut)
		}
	}
}
