package rest

import (
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/strait-replicator/strait/configs"
)

func TestBasicCredentials(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		header     string
		user, pass string
		ok         bool
	}{
		{"Basic " + b64("alice:secret"), "alice", "secret", true},
		{"basic " + b64("alice:secret"), "alice", "secret", true},
		{"BASIC " + b64("alice:pa:ss"), "alice", "pa:ss", true}, // the user ends at the first colon
		{"Basic " + b64("alice:"), "alice", "", true},
		{"Basic " + b64(":secret"), "", "", false}, // Connect: no user
		{"Basic " + b64("alice"), "", "", false},   // no colon
		{"Basic !!!", "", "", false},
		{"Bearer " + b64("alice:secret"), "", "", false},
		{"Basic", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		user, pass, ok := basicCredentials(tt.header)
		if user != tt.user || pass != tt.pass || ok != tt.ok {
			t.Errorf("basicCredentials(%q) = %q, %q, %v; want %q, %q, %v", tt.header, user, pass, ok, tt.user, tt.pass, tt.ok)
		}
	}
}

func TestRequireBasicAuth(t *testing.T) {
	auth := &configs.RESTAuth{Modules: []configs.UsersFile{{Flag: "required", Users: map[string]configs.Secret{"alice": "secret"}}}}
	h := requireBasicAuth(auth, http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		io.WriteString(rw, "ok")
	}), slog.New(slog.DiscardHandler))
	for _, tt := range []struct {
		user, pass string
		set        bool
		code       int
	}{
		{"alice", "secret", true, 200},
		{"alice", "nope", true, 401},
		{"bob", "secret", true, 401},
		{"", "", false, 401},
	} {
		r := httptest.NewRequest("POST", "/connectors/x/tasks/0/restart", nil)
		if tt.set {
			r.SetBasicAuth(tt.user, tt.pass)
		}
		rw := httptest.NewRecorder()
		h.ServeHTTP(rw, r)
		if rw.Code != tt.code {
			t.Errorf("%s/%s: %d, want %d", tt.user, tt.pass, rw.Code, tt.code)
		}
		if tt.code == 401 && (rw.Header().Values("WWW-Authenticate") == nil || rw.Body.String() != "User cannot access the resource.") {
			t.Errorf("401 without the challenge or Connect's body: %v %q", rw.Header(), rw.Body)
		}
	}
}
