package rest

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed ui/index.html
var uiFiles embed.FS

// uiHandler serves the status page: one HTML file that polls the REST API.
func uiHandler() http.Handler {
	sub, _ := fs.Sub(uiFiles, "ui") // the embedded tree has ui/
	return http.StripPrefix("/ui/", http.FileServer(http.FS(sub)))
}

type progressJSON struct {
	Flow      string `json:"flow"`
	Copied    int64  `json:"copied"`
	Remaining int64  `json:"remaining"`
	LatencyMs int64  `json:"latency_ms"`
}

func (h *restHandler) progress(rw http.ResponseWriter, _ *http.Request) {
	out := []progressJSON{}
	for _, p := range h.w.Progress() {
		out = append(out, progressJSON{Flow: p.Flow, Copied: p.Copied, Remaining: p.Remaining, LatencyMs: p.LatencyMs})
	}
	writeJSON(rw, http.StatusOK, out)
}
