package configs

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// This file reads JAAS login configuration the way the JVM does, so that a
// value Kafka accepts means the same to Strait and a value Kafka rejects is
// rejected here too. Kafka reads sasl.jaas.config with java.io.StreamTokenizer
// (org.apache.kafka.common.security.JaasConfig); a JAAS file is read by
// sun.security.provider.ConfigFile with the same tokenizer. Consequences that
// surprise people and that we keep on purpose:
//
//   - Outside quotes a value is a "word": letters, digits, '.', '-', '_' and
//     '$' (and '*' in a JAAS file), not starting with a digit, '.' or '-'.
//     Anything else ends it: password=abc;def is password "abc", then a second
//     login module "def".
//   - A value that starts with a digit, '.' or '-' is a number, which Kafka
//     rejects as "Value not specified": quote it.
//   - '/' outside quotes starts a comment to the end of the line ("//" and
//     "/* */" too), so an unquoted path is lost.
//   - Quoted strings take '...' or "..." (only "..." in a JAAS file), with
//     the escapes \n \t \b \f \r \a \v, octal \ooo and \x for any other x.
//
// Where the JVM is silently lossy we refuse instead: a quoted string that
// is not closed on its line (the JVM ends it at the line break or end of
// input and keeps going), a number used as an option key, and an unquoted
// value that a lone '/' turned into a comment.
//
// Not mirrored: ConfigFile's expansion of ${system.property} in a JAAS
// file's values (Strait has no JVM system properties, so the text stays as
// written) and Kafka's list of disallowed login modules.
//
// Errors never quote option values: they are secrets. They name the option
// key and the line and column.

// JAASEntry is one login module of a JAAS configuration.
type JAASEntry struct {
	LoginModule string       // class name, e.g. org.apache.kafka.common.security.plain.PlainLoginModule
	Flag        string       // required, requisite, sufficient or optional (lower case)
	Options     []JAASOption // in the order written; a repeated key: last wins in Option
}

// JAASOption is one key=value option of a login module.
type JAASOption struct{ Key, Value string }

// Option returns the value of key; when the key is repeated the last one
// wins, as in the JVM's map of options.
func (e JAASEntry) Option(key string) (string, bool) {
	for i := len(e.Options) - 1; i >= 0; i-- {
		if e.Options[i].Key == key {
			return e.Options[i].Value, true
		}
	}
	return "", false
}

// String writes e in sasl.jaas.config syntax, every value double-quoted,
// so that ParseJAASConfig(e.String()) gives back e.
func (e JAASEntry) String() string {
	var b strings.Builder
	writeJAASName(&b, e.LoginModule)
	b.WriteByte(' ')
	writeJAASName(&b, e.Flag)
	for _, o := range e.Options {
		b.WriteByte(' ')
		writeJAASName(&b, o.Key)
		b.WriteByte('=')
		writeJAASQuoted(&b, o.Value)
	}
	b.WriteByte(';')
	return b.String()
}

// writeJAASName writes s bare when the tokenizer reads it back as one word,
// quoted otherwise.
func writeJAASName(b *strings.Builder, s string) {
	if isJAASWord(s) {
		b.WriteString(s)
		return
	}
	writeJAASQuoted(b, s)
}

// writeJAASQuoted writes s in double quotes. Only the characters that end a
// quoted string need escaping: the quote, the backslash and line breaks.
func writeJAASQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// isJAASWord reports whether s reads back as a single word token in
// sasl.jaas.config syntax.
func isJAASWord(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		c := jaasClass(r, false)
		if i == 0 && (c&jaasAlpha == 0 || c&jaasDigit != 0) {
			return false
		}
		if c&(jaasAlpha|jaasDigit) == 0 {
			return false
		}
	}
	return true
}

// ParseJAASConfig parses a sasl.jaas.config value: exactly one entry,
// `<LoginModuleClass> <flag> key=value ... ;`.
func ParseJAASConfig(s string) (JAASEntry, error) {
	l := &jaasLexer{src: s}
	var entries []JAASEntry
	var starts []int
	for {
		t, err := l.next()
		if err != nil {
			return JAASEntry{}, err
		}
		if t.kind == jaasEOF {
			break
		}
		e, err := l.entry(t, len(entries)+1, 0)
		if err != nil {
			return JAASEntry{}, err
		}
		entries = append(entries, e)
		starts = append(starts, t.pos)
	}
	switch len(entries) {
	case 0:
		return JAASEntry{}, errors.New(`no login module: write <LoginModuleClass> required key="value" ...;`)
	case 1:
		return entries[0], nil
	}
	return JAASEntry{}, fmt.Errorf("%d login modules (the second at %s), but Kafka takes exactly one in sasl.jaas.config: keep one entry; a ';' outside quotes ends an entry, so quote values that contain ';'",
		len(entries), l.where(starts[1]))
}

// ParseJAASFile parses a JAAS login configuration file: application name -> entries.
// The syntax is `Name { <LoginModuleClass> <flag> key="value" ...; ... };`, repeated.
func ParseJAASFile(data string) (map[string][]JAASEntry, error) {
	l := &jaasLexer{src: data, file: true}
	apps := make(map[string][]JAASEntry)
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		if t.kind == jaasEOF {
			return apps, nil
		}
		if t.kind != jaasWord && t.kind != jaasQuoted {
			return nil, fmt.Errorf("%s: expected an application name (such as KafkaServer) before '{'", l.where(t.pos))
		}
		name := t.text
		if _, dup := apps[name]; dup {
			return nil, fmt.Errorf("%s: application %s is configured twice: merge its login modules into one section", l.where(t.pos), name)
		}
		if t, err = l.next(); err != nil {
			return nil, err
		}
		if !t.is('{') {
			return nil, fmt.Errorf("%s: expected '{' after application name %s: write %s { <LoginModuleClass> required key=\"value\"; };", l.where(t.pos), name, name)
		}
		entries := []JAASEntry{}
		for {
			if t, err = l.next(); err != nil {
				return nil, err
			}
			if t.is('}') {
				break
			}
			if t.kind == jaasEOF {
				return nil, fmt.Errorf("%s: section %s is not closed: end it with \"};\"", l.where(t.pos), name)
			}
			e, err := l.entry(t, len(entries)+1, '}')
			if err != nil {
				return nil, fmt.Errorf("section %s: %w", name, err)
			}
			entries = append(entries, e)
		}
		if t, err = l.next(); err != nil {
			return nil, err
		}
		if !t.is(';') {
			return nil, fmt.Errorf("%s: section %s must end with \"};\"", l.where(t.pos), name)
		}
		apps[name] = entries
	}
}

// ParseJAAS reads username and password, both required, from a
// sasl.jaas.config value such as `org.apache.kafka.common.security.plain.PlainLoginModule
// required username="alice" password="secret";` (PLAIN and SCRAM).
func ParseJAAS(v string) (user, pass string, err error) {
	if strings.TrimSpace(v) == "" {
		return "", "", errors.New(`missing: write <LoginModuleClass> required username="..." password="...";`)
	}
	e, err := ParseJAASConfig(v)
	if err != nil {
		return "", "", err
	}
	user, hasUser := e.Option("username")
	pass, hasPass := e.Option("password")
	switch {
	case !hasUser && !hasPass:
		return "", "", fmt.Errorf(`login module %s has no username and no password: write %s required username="..." password="...";`, e.LoginModule, e.LoginModule)
	case !hasUser:
		return "", "", fmt.Errorf(`login module %s has no username option: add username="..."`, e.LoginModule)
	case !hasPass:
		return "", "", fmt.Errorf(`login module %s has no password option: add password="..."`, e.LoginModule)
	case user == "":
		return "", "", errors.New("option username is empty: give the SASL user name")
	case pass == "":
		return "", "", errors.New("option password is empty: give the SASL password")
	}
	return user, pass, nil
}

// entry parses one login module whose first token is first, up to and
// including its ';'. n counts entries from 1; closer is the character
// that ends the enclosing section ('}' in a file, 0 in sasl.jaas.config),
// which means the entry's ';' is missing.
func (l *jaasLexer) entry(first jaasToken, n int, closer rune) (JAASEntry, error) {
	var e JAASEntry
	// Text seen before any option of the first entry cannot be part of a
	// secret, so errors may quote it; later on, a stray unquoted ';' in a
	// value may have made a secret look like a class name or flag.
	quotable := n == 1 && l.valueSeen == 0
	if !l.text(first) || first.text == "" {
		return e, fmt.Errorf("%s: expected a login module class name, found %s: write <LoginModuleClass> required key=\"value\" ...;%s",
			l.where(first.pos), first.describe(), l.strayHint(n))
	}
	e.LoginModule = first.text
	module := fmt.Sprintf("login module %d", n)
	if quotable {
		module = "login module " + e.LoginModule
	}

	t, err := l.next()
	if err != nil {
		return e, err
	}
	switch {
	case t.kind == jaasEOF:
		return e, fmt.Errorf("%s at %s: control flag missing: write required, requisite, sufficient or optional after the class name, then the options and ';'%s",
			module, l.where(first.pos), l.strayHint(n))
	case t.is('{') && !l.file && quotable:
		return e, fmt.Errorf("%s: sasl.jaas.config takes a login module, not a JAAS file section: drop %q and the closing \"};\"",
			l.where(t.pos), e.LoginModule+" {")
	case !l.text(t):
		return e, fmt.Errorf("%s at %s: control flag missing at %s: write required, requisite, sufficient or optional after the class name%s",
			module, l.where(first.pos), l.where(t.pos), l.strayHint(n))
	}
	switch f := strings.ToUpper(t.text); f {
	case "REQUIRED", "REQUISITE", "SUFFICIENT", "OPTIONAL":
		e.Flag = strings.ToLower(f)
	default:
		flag := "control flag"
		if quotable && t.kind == jaasWord {
			flag = fmt.Sprintf("control flag %q", t.text)
		}
		return e, fmt.Errorf("%s: invalid %s at %s: use required, requisite, sufficient or optional%s",
			module, flag, l.where(t.pos), l.strayHint(n))
	}

	l.lastBare = ""
	for {
		t, err := l.next()
		if err != nil {
			return e, err
		}
		switch {
		case t.kind == jaasEOF || t.is(closer):
			return e, fmt.Errorf("%s at %s: entry not terminated by ';': put a semicolon after its last option%s",
				module, l.where(first.pos), l.slashHint())
		case t.is(';'):
			return e, nil
		case !l.text(t):
			return e, fmt.Errorf("%s: expected an option key, found %s: write options as key=\"value\" separated by spaces%s",
				l.where(t.pos), t.describe(), l.valueHint())
		}
		key := t.text
		eq, err := l.next()
		if err != nil {
			return e, err
		}
		if !eq.is('=') && l.lastBare != "" {
			// The word may be the rest of an unquoted value that holds a
			// space: do not show it.
			return e, fmt.Errorf("%s: expected key=\"value\" after option %s: if the value of %s holds spaces, quote it",
				l.where(t.pos), l.lastBare, l.lastBare)
		}
		if !eq.is('=') {
			return e, fmt.Errorf("option %s at %s: value not specified: write %s=\"value\"", key, l.where(t.pos), key)
		}
		v, err := l.next()
		if err != nil {
			return e, fmt.Errorf("option %s: %w", key, err)
		}
		switch {
		case v.loneSlash:
			return e, fmt.Errorf("option %s at %s: an unquoted '/' starts a comment to the end of the line: quote the value: %s=\"...\"",
				key, l.where(t.pos), key)
		case v.kind == jaasNumber:
			return e, fmt.Errorf("option %s at %s: unquoted value starts with a digit, '.' or '-', which Kafka reads as a number and rejects: quote it: %s=\"...\"",
				key, l.where(t.pos), key)
		case l.file && v.kind == jaasQuoted && v.quote != '"':
			return e, fmt.Errorf("option %s at %s: value in single quotes: a JAAS file takes only double quotes: %s=\"...\"", key, l.where(t.pos), key)
		case !l.text(v):
			return e, fmt.Errorf("option %s at %s: value not specified: write %s=\"value\" (quote values with characters other than letters, digits, '.', '-', '_' and '$')",
				key, l.where(t.pos), key)
		}
		l.valueSeen++
		l.lastValue, l.lastBare = key, ""
		if v.kind == jaasWord {
			l.lastBare = key
		}
		e.Options = append(e.Options, JAASOption{Key: key, Value: v.text})
	}
}

// text reports whether t is a word or a quoted string (double-quoted only
// in a JAAS file, whose parser rejects '...'), the tokens that carry text.
func (l *jaasLexer) text(t jaasToken) bool {
	return t.kind == jaasWord || t.kind == jaasQuoted && (!l.file || t.quote == '"')
}

// strayHint explains an entry that starts after the first: usually an
// unquoted ';' inside a value.
func (l *jaasLexer) strayHint(n int) string {
	switch {
	case n == 1 || l.file:
		return ""
	case l.lastValue == "":
		return " (a ';' outside quotes ends an entry: quote values that contain ';')"
	}
	return fmt.Sprintf(" (a ';' outside quotes ends an entry: if option %s holds a ';', quote it)", l.lastValue)
}

// valueHint explains an unexpected character after an unquoted value:
// usually a character that ends a word.
func (l *jaasLexer) valueHint() string {
	if l.lastBare == "" {
		return ""
	}
	return fmt.Sprintf(" (if option %s holds characters other than letters, digits, '.', '-', '_' and '$', quote it)", l.lastBare)
}

// slashHint explains a missing ';' that a lone '/' comment swallowed.
func (l *jaasLexer) slashHint() string {
	if !l.slashSeen {
		return ""
	}
	return fmt.Sprintf(" (the '/' at %s, outside quotes, starts a comment to the end of the line: quote values that contain '/')", l.where(l.slashAt))
}

// Character classes of java.io.StreamTokenizer's default table, as Kafka and
// ConfigFile configure it.
const (
	jaasWhite = 1 << iota
	jaasDigit
	jaasAlpha
	jaasQuote
)

// jaasClass classifies r. In a JAAS file '*' is a word character too.
// Characters 127-159 and the remaining punctuation are ordinary: each is a
// token by itself.
func jaasClass(r rune, file bool) uint8 {
	switch {
	case r <= ' ':
		return jaasWhite
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', r >= 160, r == '_', r == '$':
		return jaasAlpha
	case '0' <= r && r <= '9', r == '.':
		return jaasDigit
	case r == '-':
		return jaasDigit | jaasAlpha // a number when it starts a token, a word character inside one
	case r == '*' && file:
		return jaasAlpha
	case r == '"', r == '\'':
		return jaasQuote
	}
	return 0
}

type jaasKind int

const (
	jaasEOF jaasKind = iota
	jaasWord
	jaasQuoted
	jaasNumber
	jaasChar // an ordinary character: ';', '=', '{', ...
)

type jaasToken struct {
	kind      jaasKind
	text      string // the word, the unescaped quoted string, the number's digits or the character
	quote     byte   // the quote character of a jaasQuoted
	pos       int    // byte offset of the token's first character
	loneSlash bool   // a lone '/' comment came right before this token
}

func (t jaasToken) is(c rune) bool {
	return t.kind == jaasChar && t.text == string(c)
}

// describe names the token's kind without its text, which may be a secret.
func (t jaasToken) describe() string {
	switch t.kind {
	case jaasEOF:
		return "the end"
	case jaasNumber:
		return "a number"
	case jaasQuoted:
		if t.quote == '\'' {
			return "a string in single quotes (a JAAS file takes only double quotes)"
		}
		return "a quoted string"
	case jaasWord:
		return "a word"
	}
	switch t.text {
	case ";", "=", "{", "}", ",":
		return fmt.Sprintf("'%s'", t.text)
	}
	return "a punctuation character"
}

// jaasLexer splits JAAS text into StreamTokenizer's tokens.
type jaasLexer struct {
	src  string
	i    int
	file bool // JAAS file syntax: '*' is a word character, only double quotes

	slashSeen bool // a lone '/' comment was skipped, the last at slashAt
	slashAt   int
	valueSeen int    // option values read so far
	lastValue string // key of the last option read
	lastBare  string // lastValue if its value was unquoted, else ""
}

// next returns the next token, skipping white space and comments. Its only
// error is a quoted string not closed on its line.
func (l *jaasLexer) next() (jaasToken, error) {
	loneSlash := false
	for {
		if l.i >= len(l.src) {
			return jaasToken{kind: jaasEOF, pos: l.i, loneSlash: loneSlash}, nil
		}
		r, size := utf8.DecodeRuneInString(l.src[l.i:])
		start := l.i
		c := jaasClass(r, l.file)
		switch {
		case c&jaasWhite != 0:
			l.i += size
		case c&jaasDigit != 0:
			l.i++
			if r == '-' && (l.i >= len(l.src) || l.src[l.i] != '.' && !isDigit(l.src[l.i])) {
				return jaasToken{kind: jaasChar, text: "-", pos: start, loneSlash: loneSlash}, nil
			}
			dot := r == '.'
			for l.i < len(l.src) {
				if d := l.src[l.i]; isDigit(d) || d == '.' && !dot {
					dot = dot || d == '.'
					l.i++
					continue
				}
				break
			}
			return jaasToken{kind: jaasNumber, text: l.src[start:l.i], pos: start, loneSlash: loneSlash}, nil
		case c&jaasAlpha != 0:
			l.i += size
			for l.i < len(l.src) {
				r, size := utf8.DecodeRuneInString(l.src[l.i:])
				if jaasClass(r, l.file)&(jaasAlpha|jaasDigit) == 0 {
					break
				}
				l.i += size
			}
			return jaasToken{kind: jaasWord, text: l.src[start:l.i], pos: start, loneSlash: loneSlash}, nil
		case c&jaasQuote != 0:
			text, err := l.quoted()
			if err != nil {
				return jaasToken{}, err
			}
			return jaasToken{kind: jaasQuoted, text: text, quote: byte(r), pos: start, loneSlash: loneSlash}, nil
		case r == '/':
			l.i++
			switch {
			case strings.HasPrefix(l.src[l.i:], "*"):
				// Unclosed, the comment runs to the end, as in the JVM.
				if end := strings.Index(l.src[l.i+1:], "*/"); end >= 0 {
					l.i += 1 + end + 2
				} else {
					l.i = len(l.src)
				}
				continue
			case strings.HasPrefix(l.src[l.i:], "/"):
			default:
				// A lone '/' is a comment character: StreamTokenizer drops
				// the character after it unseen (even a line break) and then
				// the rest of the line.
				loneSlash, l.slashSeen, l.slashAt = true, true, start
			}
			if l.i < len(l.src) {
				l.i++
			}
			for l.i < len(l.src) && l.src[l.i] != '\n' && l.src[l.i] != '\r' {
				l.i++
			}
		default:
			l.i += size
			return jaasToken{kind: jaasChar, text: l.src[start:l.i], pos: start, loneSlash: loneSlash}, nil
		}
	}
}

// quoted reads a quoted string starting at the quote character at l.i and
// returns its unescaped text.
func (l *jaasLexer) quoted() (string, error) {
	start := l.i
	q := l.src[l.i]
	l.i++
	var b strings.Builder
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case c == q:
			l.i++
			return b.String(), nil
		case c == '\n' || c == '\r':
			return "", fmt.Errorf("%s: quoted string not closed on its line: close it with %c before the line break; to put a line break in a value write \\n", l.where(start), q)
		case c != '\\':
			b.WriteByte(c)
			l.i++
			continue
		}
		l.i++ // the backslash
		if l.i >= len(l.src) {
			break
		}
		e := l.src[l.i]
		l.i++
		if '0' <= e && e <= '7' {
			v := rune(e - '0')
			if l.i < len(l.src) && isOctal(l.src[l.i]) {
				v = v<<3 + rune(l.src[l.i]-'0')
				l.i++
				if l.i < len(l.src) && isOctal(l.src[l.i]) && e <= '3' {
					v = v<<3 + rune(l.src[l.i]-'0')
					l.i++
				}
			}
			b.WriteRune(v)
			continue
		}
		switch e {
		case 'a':
			e = 0x7
		case 'b':
			e = '\b'
		case 'f':
			e = 0xC
		case 'n':
			e = '\n'
		case 'r':
			e = '\r'
		case 't':
			e = '\t'
		case 'v':
			e = 0xB
		}
		b.WriteByte(e) // any other escaped byte stands for itself, even a line break
	}
	return "", fmt.Errorf("%s: quoted string not closed: end it with %c (write \\%c for a quote inside and \\\\ for a backslash)", l.where(start), q, q)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// where gives the 1-based line and column of byte offset pos.
func (l *jaasLexer) where(pos int) string {
	line, lineStart := 1, 0
	for i := 0; i < pos && i < len(l.src); i++ {
		switch l.src[i] {
		case '\r':
			if i+1 < len(l.src) && l.src[i+1] == '\n' {
				continue
			}
			fallthrough
		case '\n':
			line++
			lineStart = i + 1
		}
	}
	return fmt.Sprintf("line %d, column %d", line, utf8.RuneCountInString(l.src[lineStart:min(pos, len(l.src))])+1)
}
