package rest

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestReadConfig: a connector config body is one JSON object and nothing
// after it; numbers keep their text at any size; a body past the cap is
// refused with 413, and the others with 400 or (JSON that does not parse,
// as Connect) 500.
func TestReadConfig(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       map[string]string
		status     int // of the refusal; 0 for none
	}{
		{"strings", `{"topics": "orders", "tasks.max": "2"}`, map[string]string{"topics": "orders", "tasks.max": "2"}, 0},
		{"a million", `{"offset.lag.max": 1000000}`, map[string]string{"offset.lag.max": "1000000"}, 0},
		{"beyond int64", `{"x": 123456789012345678901234567890}`, map[string]string{"x": "123456789012345678901234567890"}, 0},
		{"fraction and exponent as written", `{"x": 0.1, "y": 1e3, "z": -7}`, map[string]string{"x": "0.1", "y": "1e3", "z": "-7"}, 0},
		{"booleans", `{"emit.heartbeats.enabled": false}`, map[string]string{"emit.heartbeats.enabled": "false"}, 0},
		{"null value left out", `{"topics": null}`, map[string]string{}, 0},
		{"trailing white space", "{}\n\t ", map[string]string{}, 0},
		{"null", `null`, nil, 400},
		{"data after", `{"topics": "a"} x`, nil, 400},
		{"second object", `{}{}`, nil, 400},
		{"closing bracket after", `{}]`, nil, 400},
		{"not JSON", `{"topics": `, nil, 500},
		{"an array", `[]`, nil, 500},
		{"an object value", `{"topics": {"a": 1}}`, nil, 500},
		{"past the cap", `{"topics": "` + strings.Repeat("a", maxBodyBytes) + `"}`, nil, 413},
		{"past the cap after the object", `{}` + strings.Repeat(" ", maxBodyBytes), nil, 413},
	} {
		rw := httptest.NewRecorder()
		r := httptest.NewRequest("PUT", "/connectors/x/config", strings.NewReader(tc.body))
		r.Body = http.MaxBytesReader(rw, r.Body, maxBodyBytes)
		got, err := readConfig(r)
		if err != nil {
			writeBodyError(rw, err)
		}
		switch {
		case tc.status == 0 && err != nil:
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		case tc.status == 0 && !maps.Equal(got, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		case tc.status != 0 && rw.Code != tc.status:
			t.Errorf("%s: %v answered %d %s, want %d", tc.name, err, rw.Code, rw.Body, tc.status)
		}
	}
}
