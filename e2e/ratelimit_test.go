package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRateLimitPerFlow: a flow with replication.bytes.per.second = 50000
// copies a 4 MB backlog no faster than its limit (counted in bytes on the
// target over ~5 s, with a 2× margin: a correctness check, not a
// performance one); a PUT of the flow's config raising the key to 100 MB/s
// applies at run time, and the rest, which would take more than a minute at
// 50 KB/s, is copied within it.
func TestRateLimitPerFlow(t *testing.T) {
	const (
		limit   = 50_000 // bytes per second
		size    = 10_000 // bytes per record, values only: no key, no headers
		records = 400    // 4 MB: 80 s at the limit
	)
	a, b := newCluster(t, "A", 3), newCluster(t, "B", 3)
	a.createTopic(t, "orders", 2, nil)
	cl := a.client(t, kgo.DefaultProduceTopic("orders"), kgo.ProducerBatchCompression(kgo.NoCompression()))
	var recs []*kgo.Record
	for i := range records {
		v := make([]byte, size)
		copy(v, fmt.Sprintf("record-%d", i))
		recs = append(recs, &kgo.Record{Value: v})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	// Small fetches: a batch is charged whole before it is produced, so
	// fetches of 20 KB keep what arrives at the target smooth at the scale
	// of the window.
	text := props([]*cluster{a, b}, "A->B.enabled = true", "A->B.topics = orders", "listeners = http://"+addr,
		fmt.Sprintf("A->B.replication.bytes.per.second = %d", limit),
		"A->B.consumer.max.partition.fetch.bytes = 20000", "A->B.consumer.fetch.max.bytes = 20000")
	cfg := writeFile(t, "mm2.properties", text)
	start := time.Now() // nothing can be copied before
	p := startProcess(t, "run", "-c", cfg)

	waitFor(t, 60*time.Second, func() (bool, string) {
		n := b.endOffsets(t, "A.orders")
		return n > 0, fmt.Sprintf("A.orders on B has %d records; strait:\n%s", n, p.output)
	})
	time.Sleep(5 * time.Second) // the measuring window, not synchronisation
	copied, secs := b.endOffsets(t, "A.orders"), time.Since(start).Seconds()
	// Since the worker started: at most the limit over that time plus the
	// bucket's one second and a fetch in flight; twice that is the bound.
	if most := 2 * (limit*(secs+1) + 20_000); float64(copied*size) > most || copied >= records {
		t.Fatalf("copied %d of %d bytes in %.1f s at a limit of %d bytes/s: more than %.0f", copied*size, records*size, secs, limit, most)
	}

	// /metrics and the status page show the limit and its use.
	showsLimit := func(want int64) func() (bool, string) {
		return func() (bool, string) {
			got := metricSum(t, addr, "rate_limit_bytes_per_second", `flow="A->B"`)
			resp, err := http.Get("http://" + addr + "/ui/progress")
			if err != nil {
				return false, err.Error()
			}
			defer resp.Body.Close()
			var ui struct {
				Flows []struct {
					Flow      string `json:"flow"`
					RateLimit *struct {
						BytesPerSecond int64 `json:"bytes_per_second"`
					} `json:"rate_limit"`
				} `json:"flows"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&ui); err != nil {
				return false, err.Error()
			}
			page := int64(-1)
			for _, f := range ui.Flows {
				if f.Flow == "A->B" && f.RateLimit != nil {
					page = f.RateLimit.BytesPerSecond
				}
			}
			return got == want && page == want, fmt.Sprintf("rate_limit_bytes_per_second %d, page %d, want %d", got, page, want)
		}
	}
	waitFor(t, 10*time.Second, showsLimit(limit))

	// Raise the limit at run time to 100 MB/s.
	body := `{"connector.class": "org.apache.kafka.connect.mirror.MirrorSourceConnector", "source.cluster.alias": "A", "target.cluster.alias": "B", "topics": "orders", "replication.bytes.per.second": "100000000"}`
	req, err := http.NewRequest("PUT", "http://"+addr+"/connectors/A.B.MirrorSourceConnector/config", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT config: %d %s", resp.StatusCode, answer)
	}
	// The new limit applies to the copy, not just to the gauge: the
	// rest of the backlog (more than 3 MB, a minute at the old limit)
	// is copied within 20 s of the PUT.
	raised := time.Now()
	waitFor(t, 30*time.Second, showsLimit(100_000_000))
	waitCopied(t, b, "A.orders", records, time.Until(raised.Add(20*time.Second)))
}
