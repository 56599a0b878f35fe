package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// maxBodyBytes bounds a request body: a connector config is a few
// kilobytes, and a body is read whole before it is checked.
const maxBodyBytes = 1 << 20

// limitBodies refuses to read more than maxBodyBytes of any request's
// body: a handler reading past it gets an *http.MaxBytesError (413).
func limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(rw, r.Body, maxBodyBytes)
		next.ServeHTTP(rw, r)
	})
}

// bodyError is a request body that is valid JSON but not what the
// endpoint takes (400).
type bodyError string

func (e bodyError) Error() string { return string(e) }

// writeBodyError answers a body that could not be read: 413 past
// maxBodyBytes, 400 for a bodyError, and 500 for JSON that does not
// parse, as Connect answers it (its JSON parser's exceptions reach its
// catch-all).
func writeBodyError(rw http.ResponseWriter, err error) {
	var tooLarge *http.MaxBytesError
	var bad bodyError
	switch {
	case errors.As(err, &tooLarge):
		writeError(rw, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body is larger than %d bytes", tooLarge.Limit))
	case errors.As(err, &bad):
		writeError(rw, http.StatusBadRequest, bad.Error())
	default:
		writeError(rw, http.StatusInternalServerError, err.Error())
	}
}

// readConfig reads a body that is one flat JSON object, a connector
// config, and nothing after it. Numbers and booleans become strings as
// Connect coerces them, numbers as written (1000000, not 1e+06, at any
// size); a null value leaves its key out.
func readConfig(r *http.Request) (map[string]string, error) {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, bodyError("the body must be a JSON object of the connector's config, not null")
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		return nil, bodyError("the body must be one JSON object of the connector's config, with nothing after it")
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			out[k] = v
		case json.Number:
			out[k] = v.String()
		case bool:
			out[k] = strconv.FormatBool(v)
		case nil:
		default: // an object or array: Connect's parser fails (500)
			return nil, fmt.Errorf("config %s: a string is expected", k)
		}
	}
	return out, nil
}
