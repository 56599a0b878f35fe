package policy

import "testing"

// Patterns in Java's syntax, as MM2's topics and groups keys take them.
func TestFilterJavaSyntax(t *testing.T) {
	for _, tc := range []struct {
		include, exclude []string
		name             string
		want             bool
	}{
		{[]string{`orders\..*`}, nil, "orders.eu", true},
		{[]string{`orders\..*`}, nil, "xorders.eu", false},
		// Negative look-ahead: everything but the test topics.
		{[]string{`^(?!test-).*`}, nil, "orders", true},
		{[]string{`^(?!test-).*`}, nil, "test-orders", false},
		// Look-behind and an atomic group.
		{[]string{`.*(?<!-tmp)`}, nil, "orders-tmp", false},
		{[]string{`.*(?<!-tmp)`}, nil, "orders", true},
		{[]string{`(?>a+)b`}, nil, "aab", true},
		// A back reference.
		{[]string{`(\w)\1.*`}, nil, "aa-orders", true},
		{[]string{`(\w)\1.*`}, nil, "ab-orders", false},
		// The whole name must match, also on the backtracking engine.
		{[]string{`(?!x)ord`}, nil, "orders", false},
		{[]string{`(?!x)ord`}, nil, "ord\n", false},
		{[]string{`ord`}, nil, "ord\n", false},
		// Exclusion with look-ahead.
		{[]string{`.*`}, []string{`(?=.*secret).*`}, "top-secret-orders", false},
		{[]string{`.*`}, []string{`(?=.*secret).*`}, "orders", true},
	} {
		f, err := NewFilter(tc.include, tc.exclude)
		if err != nil {
			t.Fatalf("%v %v: %v", tc.include, tc.exclude, err)
		}
		if got := f.Match(tc.name); got != tc.want {
			t.Errorf("include %q exclude %q: Match(%q) = %v, want %v", tc.include, tc.exclude, tc.name, got, tc.want)
		}
	}
	if _, err := NewFilter([]string{`(?<=`}, nil); err == nil {
		t.Error("an unterminated look-behind compiled")
	}
}
