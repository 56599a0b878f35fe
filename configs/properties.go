package configs

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseProperties reads Java properties text (java.util.Properties.load):
// "#" and "!" comments, "=", ":" or white space between key and value,
// backslash line continuations and escapes, \uXXXX. Keys and values are
// trimmed, as Kafka's ConfigDef trims values. A later key wins.
func ParseProperties(data []byte) (map[string]string, error) {
	out, _, _, err := parseProperties(data)
	return out, err
}

// parseProperties is ParseProperties that also returns the line each key
// is last set on and, for each key set again, a warning naming both lines:
// Java's Properties keeps the last silently.
func parseProperties(data []byte) (out map[string]string, setOn map[string]int, dups []string, err error) {
	out, setOn = make(map[string]string), make(map[string]int)
	// Java's LineReader ends a line at \n, \r\n or a lone \r.
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for endsWithContinuation(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if endsWithContinuation(line) {
			line = line[:len(line)-1]
		}
		rawKey, rawValue := splitKeyValue(line)
		key, err := unescape(rawKey)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		value, err := unescape(rawValue)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("line %d: key %s: %w", lineNo, key, err)
		}
		key = strings.TrimSpace(key)
		if prev, ok := setOn[key]; ok {
			dups = append(dups, fmt.Sprintf("%s: set on line %d and again on line %d; line %d wins", key, prev, lineNo, lineNo))
		}
		out[key], setOn[key] = strings.TrimSpace(value), lineNo
	}
	return out, setOn, dups, nil
}

// endsWithContinuation reports whether line ends with an odd number of
// backslashes.
func endsWithContinuation(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitKeyValue splits at the first unescaped '=', ':' or white space; white
// space around the separator and one '=' or ':' after white space are
// dropped.
func splitKeyValue(line string) (key, value string) {
	end := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			end = i
			break
		}
	}
	key = line[:end]
	rest := line[end:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	return key, rest
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf("malformed \\uxxxx escape")
			}
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf("malformed \\uxxxx escape %q", s[i-1:i+5])
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}
