package configs

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readiness.unreachable.timeout.ms: 30 s by default; a non-negative number
// of milliseconds (0: not ready as soon as a cluster is unreachable), at
// the top level or from the environment; refused elsewhere and when not a
// number, naming the key.
func TestReadinessUnreachableTimeout(t *testing.T) {
	if got := defaultsParse(t, "").ReadinessUnreachableTimeout; got != 30*time.Second {
		t.Errorf("default %v, want 30s", got)
	}
	maxMillis := int64(math.MaxInt64 / int64(time.Millisecond))
	for _, tc := range []struct {
		extra string
		env   []string
		want  time.Duration
	}{
		{extra: "readiness.unreachable.timeout.ms = 0\n", want: 0},
		{extra: "readiness.unreachable.timeout.ms = 1\n", want: time.Millisecond},
		{extra: "readiness.unreachable.timeout.ms =  120000 \n", want: 2 * time.Minute},
		{extra: "readiness.unreachable.timeout.ms = " + strconv.FormatInt(maxMillis, 10) + "\n", want: time.Duration(maxMillis) * time.Millisecond},
		{env: []string{"STRAIT_READINESS_UNREACHABLE_TIMEOUT_MS=5000"}, want: 5 * time.Second},
		{extra: "readiness.unreachable.timeout.ms = 7000\n", env: []string{"STRAIT_READINESS_UNREACHABLE_TIMEOUT_MS=5000"}, want: 5 * time.Second},
	} {
		cfg, _, err := Parse([]byte(defaultsMinimal+tc.extra), Properties, tc.env)
		if err != nil {
			t.Errorf("%q %v: %v", tc.extra, tc.env, err)
			continue
		}
		if cfg.ReadinessUnreachableTimeout != tc.want {
			t.Errorf("%q %v: %v, want %v", tc.extra, tc.env, cfg.ReadinessUnreachableTimeout, tc.want)
		}
	}
	for _, tc := range []struct {
		extra   string
		env     []string
		wantKey string
	}{
		{extra: "readiness.unreachable.timeout.ms = -1\n", wantKey: KeyReadinessUnreachableTimeout},
		{extra: "readiness.unreachable.timeout.ms = 30s\n", wantKey: KeyReadinessUnreachableTimeout},
		{extra: "readiness.unreachable.timeout.ms = \n", wantKey: KeyReadinessUnreachableTimeout},
		{extra: "readiness.unreachable.timeout.ms = " + strconv.FormatInt(maxMillis+1, 10) + "\n", wantKey: KeyReadinessUnreachableTimeout},
		{env: []string{"STRAIT_READINESS_UNREACHABLE_TIMEOUT_MS=x"}, wantKey: KeyReadinessUnreachableTimeout},
		// Top level only: per cluster or flow it is an unknown key.
		{extra: "A.readiness.unreachable.timeout.ms = 1000\n", wantKey: "A.readiness.unreachable.timeout.ms"},
		{extra: "A->B.readiness.unreachable.timeout.ms = 1000\n", wantKey: "A->B.readiness.unreachable.timeout.ms"},
	} {
		_, _, err := Parse([]byte(defaultsMinimal+tc.extra), Properties, tc.env)
		if got := defaultsErrKeys(err); !slices.Equal(got, []string{tc.wantKey}) {
			t.Errorf("%q %v: error names %v, want [%s]: %v", tc.extra, tc.env, got, tc.wantKey, err)
		}
		if err != nil && tc.wantKey == KeyReadinessUnreachableTimeout && !strings.Contains(err.Error(), "milliseconds") {
			t.Errorf("%q: %v, want it to say what is expected", tc.extra, err)
		}
	}
	// A misspelling is answered with the key.
	_, _, err := Parse([]byte(defaultsMinimal+"readiness.unreachable.timeout = 1000\n"), Properties, nil)
	if err == nil || !strings.Contains(err.Error(), KeyReadinessUnreachableTimeout) {
		t.Errorf("misspelt key: %v, want the nearest key named", err)
	}
}
