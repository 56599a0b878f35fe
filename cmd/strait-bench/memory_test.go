package main

import (
	"slices"
	"testing"
)

func TestParseSizes(t *testing.T) {
	tests := []struct {
		in   string
		want []int64 // nil: refused
	}{
		{"64Mi,128Mi,256Mi", []int64{64 << 20, 128 << 20, 256 << 20}},
		{"1Gi", []int64{1 << 30}},
		{" 512Ki , 1048576", []int64{512 << 10, 1 << 20}},
		{"64MiB", nil},
		{"0", nil},
		{"-1Mi", nil},
		{"Mi", nil},
		{"64Mi,", nil},
		{"9223372036854775807Ki", nil},
	}
	for _, tt := range tests {
		got, err := parseSizes(tt.in)
		if tt.want == nil {
			if err == nil {
				t.Errorf("parseSizes(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("parseSizes(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
