package tomcat

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/reach"
)

// kubeDefaults are the service account files KubernetesMembershipProvider reads when the
// environment names none.
const (
	kubeTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	kubeCAFile    = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
)

// kubeEnv reads one setting as CloudMembershipProvider.getEnv does: the OpenShift name
// first, then the Kubernetes one.
func kubeEnv(environ map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := environ[k]; v != "" {
			return v
		}
	}
	return ""
}

// kubeRequest is the request KubernetesMembershipProvider.start builds from the JVM's
// environment: GET PROTOCOL://HOST:PORT/api/VERSION/namespaces/NS/pods[?labelSelector=...]
// with the service account's token, verified with its CA.
type kubeRequest struct {
	URL, Namespace, Labels string
	TokenFile, CAFile      string
	ClientCert             bool // a client certificate instead of the token: not asked here
}

func kubeRequestOf(environ map[string]string) kubeRequest {
	const p = "OPENSHIFT_KUBE_PING_"
	ns, _ := kubeNamespace(environ)
	r := kubeRequest{Namespace: ns, Labels: kubeEnv(environ, p+"LABELS", "KUBERNETES_LABELS"),
		TokenFile: kubeEnv(environ, p+"SA_TOKEN_FILE", "SA_TOKEN_FILE"), CAFile: kubeEnv(environ, p+"CA_CERT_FILE", "KUBERNETES_CA_CERTIFICATE_FILE"),
		ClientCert: kubeEnv(environ, p+"CLIENT_CERT_FILE", "KUBERNETES_CLIENT_CERTIFICATE_FILE") != ""}
	if r.TokenFile == "" {
		r.TokenFile = kubeTokenFile
	}
	if r.CAFile == "" {
		r.CAFile = kubeCAFile
	}
	proto := kubeEnv(environ, p+"MASTER_PROTOCOL", "KUBERNETES_MASTER_PROTOCOL")
	if proto == "" {
		proto = "https"
	}
	version := kubeEnv(environ, p+"API_VERSION", "KUBERNETES_API_VERSION")
	if version == "" {
		version = "v1"
	}
	host := kubeEnv(environ, p+"MASTER_HOST", "KUBERNETES_SERVICE_HOST")
	port := kubeEnv(environ, p+"MASTER_PORT", "KUBERNETES_SERVICE_PORT")
	if host != "" && port != "" {
		r.URL = fmt.Sprintf("%s://%s/api/%s/namespaces/%s/pods", proto, net.JoinHostPort(host, port), version, url.QueryEscape(ns))
		if r.Labels != "" {
			r.URL += "?labelSelector=" + url.QueryEscape(r.Labels)
		}
	}
	return r
}

// kubeNamespace is getNamespace: OPENSHIFT_KUBE_PING_NAMESPACE, KUBERNETES_NAMESPACE, else
// "tomcat" (Tomcat warns "Namespace not set").
func kubeNamespace(environ map[string]string) (string, bool) {
	if ns := kubeEnv(environ, "OPENSHIFT_KUBE_PING_NAMESPACE", "KUBERNETES_NAMESPACE"); ns != "" {
		return ns, true
	}
	return "tomcat", false
}

// podList is the part of the API's PodList the provider reads.
type podList struct {
	Items []struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Status struct {
			Phase string `json:"phase"`
			PodIP string `json:"podIP"`
		} `json:"status"`
	} `json:"items"`
}

// judgeKubernetes makes the request Tomcat makes and judges the answer as
// KubernetesMembershipProvider.parsePods does: every Running pod with a podIP other than
// this node's is a member, reached on this node's Receiver port. A 401 is the token, a 403
// the service account's missing permission to list pods.
func judgeKubernetes(ctx context.Context, env *probes.Env, in *Instance, environ map[string]string, local []probes.IfaceAddr, ev map[string]any) probes.Result {
	const id = "tomcat.membership"
	if environ == nil {
		return probes.UnknownResult(id, fmt.Sprintf("%s: Kubernetes membership reads the JVM's environment, and neither a running JVM nor its setenv.sh or service file says it", in.Label())).
			With("", "run it on the host while Tomcat runs, or export the variables in bin/setenv.sh", ev)
	}
	req := kubeRequestOf(environ)
	ev["url"], ev["namespace"] = req.URL, req.Namespace
	var notes []string
	if _, set := kubeNamespace(environ); !set {
		notes = append(notes, "no KUBERNETES_NAMESPACE: Tomcat warns \"Namespace not set\" and asks for namespace tomcat")
	}
	if req.Labels == "" {
		notes = append(notes, "no KUBERNETES_LABELS: every running pod of the namespace counts as a member, whatever it runs")
	}
	switch {
	case req.URL == "":
		return probes.FailResult(id, fmt.Sprintf("%s: Kubernetes membership: no KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT in the JVM's environment", in.Label())).
			With("Tomcat builds its URL from them (https://null:null/...), its request fails, and this node is a cluster of one", "run Tomcat in a pod (Kubernetes sets both), or set them", ev)
	case req.ClientCert:
		return probes.WarnResult(id, fmt.Sprintf("%s: Kubernetes membership with a client certificate (%s): not asked from here", in.Label(), req.URL)).With(strings.Join(notes, "; "), "", ev)
	}
	root := "" // a Tomcat that does not run reads the host's files when it starts
	if in.PID > 0 {
		root = fmt.Sprintf("/proc/%d/root", in.PID)
	}
	token, err := env.ReadFile(root+req.TokenFile, 64<<10)
	if err != nil {
		return probes.FailResult(id, fmt.Sprintf("%s: Kubernetes membership: the service account token %s cannot be read: %v", in.Label(), req.TokenFile, err)).
			With("Tomcat logs \"Failed to open stream\" and finds no member", "mount the service account token (automountServiceAccountToken), or set SA_TOKEN_FILE", ev)
	}
	for _, f := range []string{req.TokenFile, req.CAFile} {
		if ok, why := readableBy(env, in.PID, root+f); !ok {
			return probes.FailResult(id, fmt.Sprintf("%s: Kubernetes membership: Tomcat's user cannot read %s (%s)", in.Label(), f, why)).
				With("Tomcat logs \"Failed to open stream\" and finds no member", "let the pod's securityContext (fsGroup) or the file's mode give Tomcat's user read access", ev)
		}
	}
	caPEM, err := env.ReadFile(root+req.CAFile, 1<<20)
	pool := x509.NewCertPool()
	if err != nil || !pool.AppendCertsFromPEM(caPEM) {
		return probes.FailResult(id, fmt.Sprintf("%s: Kubernetes membership: the CA %s cannot be read as PEM", in.Label(), req.CAFile)).
			With("Tomcat cannot verify the API server and finds no member", "mount the service account's ca.crt, or set KUBERNETES_CA_CERTIFICATE_FILE", ev)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, req.URL, nil)
	if err != nil {
		return probes.FailResult(id, fmt.Sprintf("%s: Kubernetes membership: %v", in.Label(), err)).With("", "", ev)
	}
	hreq.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Proxy: nil}}
	resp, err := client.Do(hreq)
	if err != nil {
		return probes.FailResult(id, fmt.Sprintf("%s: Kubernetes membership: GET %s: %v", in.Label(), req.URL, err)).
			With("Tomcat makes the same request on every heartbeat and finds no member while it fails", "check the API server address and the CA", ev)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	ev["status"] = resp.StatusCode
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return probes.FailResult(id, fmt.Sprintf("%s: Kubernetes membership: the API server refuses the token of %s (401)", in.Label(), req.TokenFile)).
			With("every request Tomcat makes is refused: no member is ever found", "give the pod a valid service account token", ev)
	case http.StatusForbidden:
		return probes.FailResult(id, fmt.Sprintf("%s: Kubernetes membership: the service account may not list pods in namespace %s (403)", in.Label(), req.Namespace)).
			With("KubernetesMembershipProvider lists the namespace's pods on every heartbeat; forbidden, it finds no member and this node is a cluster of one",
				fmt.Sprintf("add a Role allowing get and list on pods in %s and a RoleBinding of it to the pod's service account (kubectl create role tomcat-members --verb=get,list --resource=pods -n %s; kubectl create rolebinding ...)", req.Namespace, req.Namespace), ev)
	default:
		return probes.FailResult(id, fmt.Sprintf("%s: Kubernetes membership: GET %s answered %s", in.Label(), req.URL, resp.Status)).With("", "", ev)
	}
	var pods podList
	if err := json.Unmarshal(body, &pods); err != nil {
		return probes.FailResult(id, fmt.Sprintf("%s: Kubernetes membership: the answer of %s is not a PodList: %v", in.Label(), req.URL, err)).With("", "", ev)
	}
	c, _ := in.Cluster()
	r := receiverOf(in, c)
	var members, bad []string
	for _, p := range pods.Items {
		if p.Kind != "" && p.Kind != "Pod" || p.Status.Phase != "Running" {
			continue
		}
		a, err := netip.ParseAddr(p.Status.PodIP)
		if err != nil || probes.HolderOf(local, a) != "" {
			continue
		}
		ap := netip.AddrPortFrom(a, uint16(r.Port))
		out := reach.TCP(ctx, ap, memberDial)
		members = append(members, fmt.Sprintf("%s %s: %s", p.Metadata.Name, ap, out.Text()))
		if out.Outcome != reach.Open {
			bad = append(bad, fmt.Sprintf("%s %s %s", p.Metadata.Name, ap, out.Text()))
		}
	}
	ev["members"] = members
	switch {
	case len(members) == 0:
		return probes.FailResult(id, fmt.Sprintf("%s: Kubernetes membership: no other running pod in namespace %s%s", in.Label(), req.Namespace, labelText(req.Labels))).
			With(strings.Join(notes, "; "), "check the labels select the Tomcat pods, and that they run", ev)
	case len(bad) > 0:
		return probes.FailResult(id, fmt.Sprintf("%s: Kubernetes member %s", in.Label(), bad[0])).
			With(strings.Join(append(members, notes...), "; "), "open the Receiver port between the pods (a NetworkPolicy), the same port on each", ev)
	case len(notes) > 0:
		return probes.WarnResult(id, fmt.Sprintf("%s: Kubernetes membership finds %d members, but %s", in.Label(), len(members), notes[0])).
			With(strings.Join(append(members, notes...), "; "), "set KUBERNETES_NAMESPACE and KUBERNETES_LABELS in the pod's environment", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("%s: Kubernetes membership: %d members in namespace %s%s, each accepting TCP (%s)", in.Label(), len(members), req.Namespace, labelText(req.Labels), strings.Join(members, "; "))).
		With("multicast is not used: route.multicast, firewall.igmp and the membership port do not apply", "", ev)
}

func labelText(labels string) string {
	if labels == "" {
		return ""
	}
	return " with labels " + labels
}

// readableBy reports whether the process can read the file by its permissions: its
// user and groups (/proc/PID/status) against the file's owner, group and mode, as the
// kernel decides for a process without capabilities (root reads everything). why says
// who may read it, for the message.
func readableBy(env *probes.Env, pid int, path string) (ok bool, why string) {
	b, err := env.ReadFile(fmt.Sprintf("/proc/%d/status", pid), 64<<10)
	if err != nil {
		return true, "" // not known: not claimed
	}
	var uid string
	var gids []string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		switch {
		case k == "Uid" && len(f) > 1:
			uid = f[1] // effective
		case k == "Gid" && len(f) > 1:
			gids = append(gids, f[1])
		case k == "Groups":
			gids = append(gids, f...)
		}
	}
	st, err := os.Stat(env.Path(path))
	if err != nil {
		return true, ""
	}
	sys, okSys := st.Sys().(*syscall.Stat_t)
	if !okSys || uid == "" {
		return true, ""
	}
	mode := st.Mode().Perm()
	owner, group := strconv.Itoa(int(sys.Uid)), strconv.Itoa(int(sys.Gid))
	switch {
	case uid == "0", uid == owner && mode&0o400 != 0, slices.Contains(gids, group) && mode&0o040 != 0, mode&0o004 != 0:
		return true, ""
	}
	return false, fmt.Sprintf("mode %04o, owner %s, group %s; the JVM runs as uid %s", mode, owner, group, uid)
}
