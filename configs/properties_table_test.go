package configs

import (
	"maps"
	"strings"
	"testing"
)

// ParseProperties reads what java.util.Properties.load reads, with keys and
// values trimmed (Strait's one documented difference: Kafka's ConfigDef
// trims values anyway).
func TestPropertiesTable(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want map[string]string
	}{
		// Separators.
		{"equals", "k=v", map[string]string{"k": "v"}},
		{"colon", "k:v", map[string]string{"k": "v"}},
		{"space", "k v", map[string]string{"k": "v"}},
		{"tab", "k\tv", map[string]string{"k": "v"}},
		{"form feed", "k\fv", map[string]string{"k": "v"}},
		{"spaces around equals", "k  =  v", map[string]string{"k": "v"}},
		{"tabs around colon", "k\t:\tv", map[string]string{"k": "v"}},
		{"spaces then value with spaces", "k   a b  c", map[string]string{"k": "a b  c"}},
		{"only the first separator", "k==v", map[string]string{"k": "=v"}},
		{"equals then colon", "k=:v", map[string]string{"k": ":v"}},
		{"space, equals, equals", "k = = v", map[string]string{"k": "= v"}},
		{"space, colon, equals", "k :=v", map[string]string{"k": "=v"}},
		{"separators inside the value", "k=a=b:c d", map[string]string{"k": "a=b:c d"}},
		{"key alone", "k", map[string]string{"k": ""}},
		{"key and separator", "k=", map[string]string{"k": ""}},
		{"key and spaces", "k   ", map[string]string{"k": ""}},
		{"empty key", "=v", map[string]string{"": "v"}},
		{"leading white space", " \t\f k = v", map[string]string{"k": "v"}},
		{"trailing white space trimmed", "k = v \t", map[string]string{"k": "v"}},
		{"MM2 arrow keys", "A->B.enabled = true", map[string]string{"A->B.enabled": "true"}},

		// Escaped separators in keys.
		{"escaped equals in key", `a\=b=c`, map[string]string{"a=b": "c"}},
		{"escaped colon in key", `a\:b:c`, map[string]string{"a:b": "c"}},
		{"escaped space in key", `a\ b c`, map[string]string{"a b": "c"}},
		{"escaped tab in key", "a\\\tb=c", map[string]string{"a\tb": "c"}},
		{"escaped backslash ends before separator", `a\\=b`, map[string]string{`a\`: "b"}},
		{"escaped backslash then escaped equals", `a\\\=b=c`, map[string]string{`a\=b`: "c"}},
		{"escaped hash in key", `\#k=v`, map[string]string{"#k": "v"}},

		// Escapes in values.
		{"tab newline return form feed", `k=a\tb\nc\rd\fe`, map[string]string{"k": "a\tb\nc\rd\fe"}},
		{"other escapes drop the backslash", `k=\a\b\c\=\:\#\!\ x`, map[string]string{"k": "abc=:#! x"}},
		{"escaped backslash", `k=C:\\dir\\file`, map[string]string{"k": `C:\dir\file`}},
		{"unicode escapes", `k=\u0041\u00e9\u20AC\u00C9`, map[string]string{"k": "Aé€É"}},
		{"unicode escape in key", `\u0041\u002eb=1`, map[string]string{"A.b": "1"}},
		{"unicode escaped separator in key does not split", `a\u003db=1`, map[string]string{"a=b": "1"}},
		{"raw UTF-8", "k=é", map[string]string{"k": "é"}},

		// Line continuations: an odd number of trailing backslashes continues
		// the line, and the next line's leading white space is dropped.
		{"continuation", "k = a\\\n    b", map[string]string{"k": "ab"}},
		{"continuation keeps the space before it", "k = a, \\\n\t\f b", map[string]string{"k": "a, b"}},
		{"several continuations", "k=1,\\\n 2,\\\n\t3\nj=4", map[string]string{"k": "1,2,3", "j": "4"}},
		{"two backslashes: no continuation", "k=x\\\\\nj=y", map[string]string{"k": `x\`, "j": "y"}},
		{"three backslashes: continuation", "k=x\\\\\\\n  y", map[string]string{"k": `x\y`}},
		{"four backslashes: no continuation", "k=x\\\\\\\\\nj=y", map[string]string{"k": `x\\`, "j": "y"}},
		{"five backslashes: continuation", "k=x\\\\\\\\\\\n y", map[string]string{"k": `x\\y`}},
		{"two backslashes in a key line", "k\\\\\nj=y", map[string]string{`k\`: "", "j": "y"}},
		{"continuation at the end of input", "k=x\\", map[string]string{"k": "x"}},
		{"continuation into an empty line ends the entry", "k=a\\\n\nj=b", map[string]string{"k": "a", "j": "b"}},
		{"continuation into a blank line ends the entry", "k=a\\\n   \nj=b", map[string]string{"k": "a", "j": "b"}},
		{"a continued line starting with # is no comment", "k=a\\\n#b", map[string]string{"k": "a#b"}},
		{"a continued line starting with ! is no comment", "k=a\\\n  !b", map[string]string{"k": "a!b"}},
		{"continuation inside the key", "ke\\\n  y=v", map[string]string{"key": "v"}},
		{"continuation before the separator", "k\\\n  = v", map[string]string{"k": "v"}},
		{"continuation after the separator", "k = \\\n  v", map[string]string{"k": "v"}},
		{"escaped white space at a line start is kept", "k = a\\\n\\ b", map[string]string{"k": "a b"}},

		// Comments.
		{"hash comment", "# k=v\nj=w", map[string]string{"j": "w"}},
		{"bang comment", "! k=v\nj=w", map[string]string{"j": "w"}},
		{"indented comments", "  # a\n\t! b\n\f# c\nj=w", map[string]string{"j": "w"}},
		{"a comment ending with a backslash does not continue", "# c \\\nk=v", map[string]string{"k": "v"}},
		{"a bang comment ending with a backslash does not continue", "! c\\\nk=v", map[string]string{"k": "v"}},
		{"hash inside a value", "k=v # not a comment", map[string]string{"k": "v # not a comment"}},
		{"hash starting a value", "k=#v", map[string]string{"k": "#v"}},
		{"bang starting a value", "k !v", map[string]string{"k": "!v"}},

		// Line ends and layout.
		{"CRLF", "a=1\r\nb=2\r\n", map[string]string{"a": "1", "b": "2"}},
		{"CRLF continuation", "a=1\\\r\n  2\r\nb=3\r\n", map[string]string{"a": "12", "b": "3"}},
		{"CRLF comment with backslash", "# x\\\r\na=1\r\n", map[string]string{"a": "1"}},
		{"lone CR ends a line", "a=1\rb=2", map[string]string{"a": "1", "b": "2"}},
		{"blank lines", "\n\n  \n\t\na=1\n\n", map[string]string{"a": "1"}},
		{"no final line end", "a=1\nb=2", map[string]string{"a": "1", "b": "2"}},
		{"empty input", "", map[string]string{}},
		{"only comments", "# a\n! b\n", map[string]string{}},
		{"later key wins", "k=1\nk=2\n k = 3", map[string]string{"k": "3"}},
		{"keys differing in case", "k=1\nK=2", map[string]string{"k": "1", "K": "2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseProperties([]byte(c.in))
			if err != nil {
				t.Fatalf("%q: %v", c.in, err)
			}
			if !maps.Equal(got, c.want) {
				t.Errorf("%q: got %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// Malformed \uXXXX escapes fail (Java's "Malformed \uxxxx encoding"), with
// the line number.
func TestPropertiesMalformedUnicode(t *testing.T) {
	for _, in := range []string{
		`k=\u12`,
		`k=\u`,
		`k=\u00G1`,
		`k=\uXYZW`,
		"a=1\n\\u12=v",
		`k=\u-123`,
		`k=\u+123`,
	} {
		_, err := ParseProperties([]byte(in))
		if err == nil {
			t.Errorf("%q accepted", in)
			continue
		}
		line := "line 1:"
		if strings.Contains(in, "\n") {
			line = "line 2:"
		}
		if !strings.Contains(err.Error(), line) {
			t.Errorf("%q: error %q does not name %s", in, err, line)
		}
	}
}

// A properties file reaches typed settings through Parse: continuation,
// escapes and separators as above.
func TestPropertiesThroughParse(t *testing.T) {
	in := "clusters = A, \\\n   B\r\n" +
		"A.bootstrap.servers : a1:9092,\\\n\ta2:9092\r\n" +
		"B.bootstrap.servers b:9092\n" +
		"A->B.enabled=true\n" +
		"A->B.group.id = grp\\\\\n" + // even: no continuation, the value ends in a backslash
		"A->B.tasks.max = 3\n" +
		"# A->B.tasks.max = 4 \\\n" +
		"A->B.groups = \\u0067.*\n"
	cfg, warnings, err := Parse([]byte(in), Properties, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	f := defaultsFlow(t, cfg, "A", "B")
	a, _ := cfg.Cluster("A")
	if strings.Join(a.BootstrapServers, " ") != "a1:9092 a2:9092" || f.TasksMax != 3 || f.GroupID != `grp\` || !f.Groups.Match("g1") || f.Groups.Match("h1") {
		t.Errorf("servers %v, tasks %d, group.id %q, groups g1 %v", a.BootstrapServers, f.TasksMax, f.GroupID, f.Groups.Match("g1"))
	}
}
