package rest

import (
	"crypto/tls"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/strait-replicator/strait/configs"
)

// requireBasicAuth answers 401 to every request whose Authorization header
// does not carry credentials auth accepts, as Connect's JaasBasicAuthFilter
// does (same body), plus a WWW-Authenticate challenge so that browsers and
// curl --anyauth know to send them. Connect lets through unauthenticated
// only the worker-to-worker task-config and fencing requests, which Strait
// does not serve, so no request is exempt. Credentials are never logged.
func requireBasicAuth(auth *configs.RESTAuth, next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		user, pass, ok := basicCredentials(r.Header.Get("Authorization"))
		if ok && auth.Check(user, pass) {
			next.ServeHTTP(rw, r)
			return
		}
		// Debug, as Connect: a mistyped password should not fill the logs.
		log.Debug("REST request failed authentication", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "user", user)
		rw.Header().Set("WWW-Authenticate", `Basic realm="Kafka Connect", charset="UTF-8"`)
		rw.Header().Set("Content-Type", "text/plain")
		rw.WriteHeader(http.StatusUnauthorized)
		_, _ = rw.Write([]byte("User cannot access the resource.")) // the client went away if this fails
	})
}

// basicCredentials parses an Authorization header as Connect's
// BasicAuthCredentials: "Basic" in any case, base64 of user:password, the
// user before the first colon and not empty.
func basicCredentials(header string) (user, pass string, ok bool) {
	method, enc, found := strings.Cut(header, " ")
	if !found || method == "" || !strings.EqualFold(method, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", "", false
	}
	user, pass, found = strings.Cut(string(raw), ":")
	if !found || user == "" {
		return "", "", false
	}
	return user, pass, true
}

// newForwardClient is the client that forwards requests to other workers:
// tlsCfg checks their https listeners (nil: http, or the system's roots).
// No proxy from the environment, as Connect's Jetty client uses none.
func newForwardClient(tlsCfg *tls.Config) *http.Client {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		IdleConnTimeout:       30 * time.Second,
		MaxIdleConnsPerHost:   2,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	if tlsCfg != nil {
		tr.TLSClientConfig = tlsCfg.Clone()
	}
	return &http.Client{
		Transport: tr,
		Timeout:   forwardTimeout,
		// The answer of the worker that ran the request is relayed as is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
