package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// kubeAPI is a stand-in for the Kubernetes API server's pod listing, answering as the API
// reference documents it: a PodList for GET /api/v1/namespaces/NS/pods with the right
// token and label selector, a Status object with 403 when forbidden is set, 401 for
// another token. No API server can be installed on these machines.
type kubeAPI struct {
	namespace, labels, token string
	pods                     []string // the running pods' IPs
	forbidden                atomic.Bool
}

func (k *kubeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Header.Get("Authorization") != "Bearer "+k.token:
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
	case k.forbidden.Load():
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods is forbidden: User \"system:serviceaccount:%s:default\" cannot list resource \"pods\" in API group \"\" in the namespace \"%s\"","reason":"Forbidden","details":{"kind":"pods"},"code":403}`, k.namespace, k.namespace)
	case r.URL.Path != "/api/v1/namespaces/"+k.namespace+"/pods" || r.URL.Query().Get("labelSelector") != k.labels:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
	default:
		var items []string
		for i, ip := range k.pods {
			items = append(items, fmt.Sprintf(`{"kind":"Pod","metadata":{"name":"tomcat-%d","namespace":%q,"uid":"uid-%d","creationTimestamp":"2026-12-05T10:00:00Z","labels":{"app":"tomcat"}},"status":{"phase":"Running","podIP":%q}}`, i, k.namespace, i, ip))
		}
		fmt.Fprintf(w, `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[%s]}`, strings.Join(items, ","))
	}
}

// selfSignedFor is a CA-signed certificate for ip and the CA's PEM.
func selfSignedFor(t *testing.T, ip string) (tls.Certificate, []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lab kubernetes ca"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kubernetes"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP(ip)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

// TestKubernetesMembershipAgainstTomcat: two real Tomcat 10.1 with CloudMembershipService's
// Kubernetes provider pointed at the stand-in API server (its address, a token, a CA of
// the test's own, in their environment): both find each other from the pod list, and
// tomcat.membership, making the same request, names the other pod accepting TCP. When the
// service account may not list pods (403), the check fails naming the permission.
func TestKubernetesMembershipAgainstTomcat(t *testing.T) {
	lab.RequireTomcat(t)
	t.Parallel() // its lab is its own
	l := lab.New(t)
	a, b, api := l.AddHost("was1", 1), l.AddHost("was2", 2), l.AddHost("api", 3)
	cert, caPEM := selfSignedFor(t, "10.99.0.3")
	k := &kubeAPI{namespace: "lab", labels: "app=tomcat", token: "lab-token-1", pods: []string{"10.99.0.1", "10.99.0.2"}}
	ln := tls.NewListener(api.Listen("10.99.0.3:8443"), &tls.Config{Certificates: []tls.Certificate{cert}})
	srv := &http.Server{Handler: k, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	env := []string{"KUBERNETES_SERVICE_HOST=10.99.0.3", "KUBERNETES_SERVICE_PORT=8443", "KUBERNETES_NAMESPACE=lab", "KUBERNETES_LABELS=app=tomcat",
		"SA_TOKEN_FILE=" + l.WriteFile("sa-token", k.token), "KUBERNETES_CA_CERTIFICATE_FILE=" + l.WriteFile("sa-ca.crt", string(caPEM))}
	conf := tcConf{JvmRoute: "tomcat1", Membership: `<Membership className="org.apache.catalina.tribes.membership.cloud.CloudMembershipService"/>`}
	var tcs []*lab.Tomcat
	for _, h := range []*lab.Host{a, b} {
		tc := h.StartTomcat(lab.TomcatSpec{Name: "kube-" + h.Name, Files: conf.files(), Hostname: h.Name, Hosts: hostsFor(h.Name, h.Addr.String()), Env: env})
		defer tc.Stop()
		tcs = append(tcs, tc)
	}
	for _, tc := range tcs {
		tc.Started(t)
		tc.WaitLog(t, 30*time.Second, "Replication member added")
	}
	membership := func() probes.Result {
		rep, _ := preflightJSON(t, a, wasView(t, a, "was1"), "--skip", "ntp.sync")
		return check(t, rep, "tomcat.membership")
	}
	if got := membership(); got.Status != probes.Pass || !strings.Contains(got.Summary, "1 members in namespace lab with labels app=tomcat") || !strings.Contains(got.Summary, "tomcat-1 10.99.0.2:4000") {
		t.Errorf("tomcat.membership = %s %q (%s); want pass naming tomcat-1 10.99.0.2:4000", got.Status, got.Summary, got.Detail)
	}
	k.forbidden.Store(true)
	if got := membership(); got.Status != probes.Fail || !strings.Contains(got.Summary, "may not list pods in namespace lab (403)") || !strings.Contains(got.Remediation, "RoleBinding") {
		t.Errorf("tomcat.membership with the listing forbidden = %s %q (%s); want fail naming the missing permission", got.Status, got.Summary, got.Remediation)
	}
}
