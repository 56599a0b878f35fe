package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/strait-replicator/strait/configs"
	"github.com/strait-replicator/strait/replicator"
	"github.com/strait-replicator/strait/replicator/rest"
)

// newMetrics builds the meter provider whose instruments /metrics exports
// in the Prometheus format.
func newMetrics() (*sdkmetric.MeterProvider, http.Handler, error) {
	reg := prometheus.NewRegistry()
	// Without unit suffixes, so names stay MM2's: record_age_ms, not
	// record_age_ms_milliseconds.
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutUnits())
	if err != nil {
		return nil, nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	return sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp)), promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}

// hostname is this machine's name, which other workers use to reach a
// listener on every interface (an empty or wildcard host); empty if
// unknown.
func hostname() string {
	name, _ := os.Hostname()
	return name
}

// serveREST listens on every listener of cfg and serves the worker's REST
// API there, naming the worker workerID, until ctx is done, then shuts the
// server down. https listeners serve TLS with the listener's
// configuration; with basic authentication configured every request must
// pass it. The listeners are opened before serve returns its run
// function, so a busy port fails at start.
func serveREST(cfg *configs.Config, workerID string, w *replicator.Worker, metrics http.Handler, log *slog.Logger) (func(ctx context.Context) error, error) {
	scheme, _, _ := cfg.Advertised("")
	srv := &http.Server{
		Handler: rest.NewHandler(w, rest.Config{
			Version: buildVersion(), WorkerID: workerID, Metrics: metrics,
			Auth: cfg.REST.Auth, ForwardScheme: scheme, ForwardTLS: cfg.REST.ForwardTLS, Log: log,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		// TLS handshake failures (a plain http request to an https port,
		// a client without the certificate asked for) land here.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	lns := make([]net.Listener, 0, len(cfg.Listeners))
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	for _, l := range cfg.Listeners {
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("listeners: %s: %w", l.URL(), err)
		}
		if l.TLS != nil {
			ln = tls.NewListener(ln, l.TLS.Clone()) // HTTP/1.1, as Connect's Jetty
		}
		lns = append(lns, ln)
		attrs := []any{"url", l.Scheme + "://" + ln.Addr().String()}
		if cfg.REST.Auth != nil {
			attrs = append(attrs, "auth", "basic", "jaas", cfg.REST.Auth.JAASFile)
		}
		log.Info("REST API listening", attrs...)
	}
	if cfg.REST.Auth == nil {
		log.Warn("REST API without authentication: anyone who reaches it can pause, reconfigure and delete connectors; see rest.extension.classes")
	}
	return func(ctx context.Context) error {
		errc := make(chan error, len(lns))
		for _, ln := range lns {
			go func() { errc <- srv.Serve(ln) }() // joined below through errc
		}
		var err error
		running := len(lns)
		select {
		case serr := <-errc:
			running--
			err = fmt.Errorf("REST API: %w", serr)
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		if serr := srv.Shutdown(sctx); err == nil {
			err = serr
		}
		for ; running > 0; running-- {
			if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
				err = fmt.Errorf("REST API: %w", serr)
			}
		}
		return err
	}, nil
}
