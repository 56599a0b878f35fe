package configs

import (
	"errors"
	"regexp"
	"strings"
)

var jaasPair = regexp.MustCompile(`([A-Za-z_.]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))`)

// ParseJAAS reads username and password from a sasl.jaas.config value such
// as `org.apache.kafka.common.security.plain.PlainLoginModule required
// username="alice" password="secret";`.
func ParseJAAS(v string) (user, pass string, err error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", "", errors.New("missing: give the login module with username and password")
	}
	fields := strings.Fields(v)
	if len(fields) < 2 || !strings.HasSuffix(strings.TrimSpace(v), ";") {
		return "", "", errors.New(`expected "<LoginModule> required username=\"...\" password=\"...\";"`)
	}
	for _, m := range jaasPair.FindAllStringSubmatch(v, -1) {
		val := m[3]
		if m[3] == "" {
			val = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(m[2])
		}
		switch m[1] {
		case "username":
			user = val
		case "password":
			pass = val
		}
	}
	if user == "" || pass == "" {
		return "", "", errors.New("username and password are both required")
	}
	return user, pass, nil
}
