package replicator

import (
	"fmt"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A task's budget sizes its clients: in proportion, with floors for a tiny
// share (tasks.max raised through the REST API) and kgo's 50 MiB fetch as
// the ceiling.
func TestTaskBudgetSizesClients(t *testing.T) {
	tests := []struct {
		budget              int64
		bufBytes, bufRecs   int
		fetch, partitionMax int32
	}{
		{16 << 20, 6710886, 6553, 2 << 20, 1 << 20},
		{112 << 20, 46976204, 45875, 14 << 20, 1 << 20},
		{0, 1 << 20, 1024, 256 << 10, 256 << 10},
		{4 << 30, 1717986918, 1677721, 50 << 20, 1 << 20},
	}
	for _, tt := range tests {
		cl, err := kgo.NewClient(slices.Concat(budgetProducerOpts(tt.budget), budgetConsumerOpts(tt.budget))...)
		if err != nil {
			t.Fatal(err)
		}
		got := []any{cl.OptValue(kgo.MaxBufferedBytes), cl.OptValue(kgo.MaxBufferedRecords), cl.OptValue(kgo.FetchMaxBytes), cl.OptValue(kgo.FetchMaxPartitionBytes), cl.OptValue(kgo.MaxConcurrentFetches)}
		want := []any{tt.bufBytes, tt.bufRecs, tt.fetch, tt.partitionMax, 2}
		cl.Close()
		if fmt.Sprint(got) != fmt.Sprint(want) { // OptValue's types vary
			t.Errorf("budget %d: buffered bytes, records, fetch, partition fetch, concurrent fetches = %v, want %v", tt.budget, got, want)
		}
	}
}
