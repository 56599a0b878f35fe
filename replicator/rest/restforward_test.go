package rest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestForwardUsesConfiguredTLS: a request forwarded to the worker that runs
// the task goes through the client built from Config.ForwardTLS (here
// the only one that trusts that worker's certificate, which no system root
// signs), with forward=false and the caller's credentials; without that
// TLS config, as with http.DefaultClient, it cannot reach the worker.
func TestForwardUsesConfiguredTLS(t *testing.T) {
	var got *http.Request
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		got = r
		rw.WriteHeader(http.StatusNoContent)
	}))
	other.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	other.StartTLS()
	t.Cleanup(other.Close)
	trusting := other.Client().Transport.(*http.Transport).TLSClientConfig
	worker := strings.TrimPrefix(other.URL, "https://")
	forward := func(h *restHandler) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/connectors/A.B.MirrorSourceConnector/tasks/1/restart", nil)
		req.Header.Set("Authorization", "Basic YWxpY2U6cHc=")
		rw := httptest.NewRecorder()
		h.forward(rw, req, worker)
		return rw
	}

	rw := forward(&restHandler{cfg: Config{ForwardScheme: "https"}, client: newForwardClient(trusting)})
	if rw.Code != http.StatusNoContent || got == nil {
		t.Fatalf("forwarded with the configured TLS: %d %s, want the other worker's 204", rw.Code, rw.Body)
	}
	if got.URL.Query().Get("forward") != "false" || got.Header.Get("Authorization") != "Basic YWxpY2U6cHc=" {
		t.Errorf("forwarded request: %s, Authorization %q", got.URL, got.Header.Get("Authorization"))
	}

	got = nil
	rw = forward(&restHandler{cfg: Config{ForwardScheme: "https"}, client: newForwardClient(nil)})
	body, _ := io.ReadAll(rw.Body)
	if rw.Code != http.StatusConflict || got != nil || !strings.Contains(string(body), "certificate") {
		t.Errorf("forwarded with the system's roots: %d %s, want 409 naming the certificate", rw.Code, body)
	}
}
