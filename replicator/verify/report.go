package verify

import (
	"encoding/json"
)

// Report is what Run found for one flow.
type Report struct {
	Flow   string        `json:"flow"`
	Topics []TopicReport `json:"topics"`
	// Total is the sum over the topics.
	Total Counts `json:"total"`
	// Read is how many records both sides held in the compared ranges
	// (offsets, transaction markers included), Seconds how long it took.
	Read    int64   `json:"offsets_read"`
	Seconds float64 `json:"seconds"`
}

// Differs reports whether a difference was found.
func (r *Report) Differs() bool { return r.Total.Differs() }

// TopicReport is the comparison of one source topic with its remote topic.
type TopicReport struct {
	Topic  string `json:"topic"`
	Remote string `json:"remote_topic"`
	Counts
	// First is the first difference: in the lowest partition that has
	// one, the first found there.
	First *PartitionDifference `json:"first_difference,omitempty"`
	// Note says why the remote topic could not be read, if so.
	Note       string            `json:"note,omitempty"`
	Partitions []PartitionReport `json:"partitions"`
}

// PartitionDifference is a difference with its partition.
type PartitionDifference struct {
	Partition int32 `json:"partition"`
	Difference
}

// PartitionReport is the comparison of one partition.
type PartitionReport struct {
	Partition int32 `json:"partition"`
	Counts
	// Differences are the first MaxDifferences found; the first pair
	// found different names the fields that differ.
	Differences []Difference `json:"differences,omitempty"`
	// The offsets read on each side: [start, end).
	SourceStart int64 `json:"source_start"`
	SourceEnd   int64 `json:"source_end"`
	TargetStart int64 `json:"target_start"`
	TargetEnd   int64 `json:"target_end"`
	// Syncs is how many offset syncs aligned the partition.
	Syncs int `json:"offset_syncs"`
	// Note says what limits the result, if anything (a read that ended
	// short of its end offset, a partition missing on one side).
	Note string `json:"note,omitempty"`
}

// differenceJSON is a difference as JSON: only the offsets it has (a
// missing record has no target offset, an extra one no source offset).
type differenceJSON struct {
	Partition    *int32   `json:"partition,omitempty"`
	Kind         string   `json:"kind"`
	SourceOffset *int64   `json:"source_offset,omitempty"`
	TargetOffset *int64   `json:"target_offset,omitempty"`
	Fields       []string `json:"fields,omitempty"`
}

func (d Difference) toJSON() differenceJSON {
	o := differenceJSON{Kind: d.Kind.String(), Fields: d.Fields}
	if d.Kind != Extra {
		o.SourceOffset = &d.SourceOffset
	}
	if d.Kind != Missing {
		o.TargetOffset = &d.TargetOffset
	}
	return o
}

// MarshalJSON writes the offsets the difference has.
func (d Difference) MarshalJSON() ([]byte, error) { return json.Marshal(d.toJSON()) }

// MarshalJSON writes the difference with its partition.
func (d PartitionDifference) MarshalJSON() ([]byte, error) {
	o := d.Difference.toJSON()
	o.Partition = &d.Partition
	return json.Marshal(o)
}

// summarize fills a topic's counts and first difference from its
// partitions, and the report's total.
func (r *Report) summarize() {
	r.Total = Counts{}
	for i := range r.Topics {
		t := &r.Topics[i]
		t.Counts, t.First = Counts{}, nil
		for _, p := range t.Partitions {
			t.Counts.Add(p.Counts)
			if t.First == nil && len(p.Differences) > 0 {
				t.First = &PartitionDifference{Partition: p.Partition, Difference: p.Differences[0]}
			}
		}
		r.Total.Add(t.Counts)
	}
}
