package main

import (
	"context"
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

	"github.com/strait-replicator/strait/replicator"
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

// advertisedAddr is how other workers and the status topic name the
// worker listening on listener (host:port), as Connect's worker_id: the
// listener, or this machine's name for an unspecified host.
func advertisedAddr(listener string) string {
	host, port, err := net.SplitHostPort(listener)
	if err != nil {
		return listener
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if name, err := os.Hostname(); err == nil {
			host = name
		}
	}
	return net.JoinHostPort(host, port)
}

// serveREST listens on addr and serves the worker's REST API, naming the
// worker workerID, until ctx is done, then shuts the server down. The
// listener is opened before serve returns its run function, so a busy port
// fails at start.
func serveREST(addr, workerID string, w *replicator.Worker, metrics http.Handler, log *slog.Logger) (func(ctx context.Context) error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listeners: %w", err)
	}
	srv := &http.Server{
		Handler:           replicator.NewHandler(w, replicator.RESTConfig{Version: buildVersion(), WorkerID: workerID, Metrics: metrics}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Info("REST API listening", "addr", ln.Addr().String())
	return func(ctx context.Context) error {
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }() // joined below through errc
		select {
		case err := <-errc:
			return fmt.Errorf("REST API: %w", err)
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		return err
	}, nil
}
