package configs

import (
	"os"
	"strings"
	"testing"
)

// The README's key tables name every key Strait reads, accepts without
// effect or refuses: a key added here without a word there fails.
func TestREADMENamesEveryKey(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	var keys []string
	for _, m := range []map[string]keySpec{flowKeys, workerKeys, clientKeys} {
		for k := range m {
			keys = append(keys, k)
		}
	}
	for k := range clientSettings {
		keys = append(keys, k)
	}
	for k := range clientNoEffect {
		keys = append(keys, k)
	}
	for k := range noEffectKeys {
		keys = append(keys, k)
	}
	for k := range classKeys {
		keys = append(keys, k)
	}
	for k := range brokerKeys {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if !strings.Contains(readme, "`"+k+"`") {
			t.Errorf("README.md does not name `%s`", k)
		}
	}
}
