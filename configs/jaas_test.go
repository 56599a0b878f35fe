package configs

import (
	"reflect"
	"strings"
	"testing"
)

const (
	plainModule  = "org.apache.kafka.common.security.plain.PlainLoginModule"
	scramModule  = "org.apache.kafka.common.security.scram.ScramLoginModule"
	oauthModule  = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	iamModule    = "software.amazon.msk.auth.iam.IAMLoginModule"
	krb5Module   = "com.sun.security.auth.module.Krb5LoginModule"
	eventHubsKey = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=abc+/def="
)

func opts(kv ...string) []JAASOption {
	var o []JAASOption
	for i := 0; i < len(kv); i += 2 {
		o = append(o, JAASOption{Key: kv[i], Value: kv[i+1]})
	}
	return o
}

func TestParseJAASConfigProviders(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want JAASEntry
	}{
		{"confluent cloud single quotes",
			plainModule + ` required username='KEY' password='SECRET';`,
			JAASEntry{plainModule, "required", opts("username", "KEY", "password", "SECRET")}},
		{"confluent cloud double quotes",
			plainModule + ` required username="KEY" password="SECRET";`,
			JAASEntry{plainModule, "required", opts("username", "KEY", "password", "SECRET")}},
		{"azure event hubs",
			plainModule + ` required username="$ConnectionString" password="` + eventHubsKey + `";`,
			JAASEntry{plainModule, "required", opts("username", "$ConnectionString", "password", eventHubsKey)}},
		{"azure event hubs unquoted username",
			plainModule + ` required username=$ConnectionString password="` + eventHubsKey + `";`,
			JAASEntry{plainModule, "required", opts("username", "$ConnectionString", "password", eventHubsKey)}},
		{"aiven scram",
			scramModule + ` required username="avnadmin" password="AVNS_abc-123_XyZ";`,
			JAASEntry{scramModule, "required", opts("username", "avnadmin", "password", "AVNS_abc-123_XyZ")}},
		{"strimzi scram",
			scramModule + ` required username="my-user" password="Z2VuZXJhdGVkLXBhc3N3b3Jk";`,
			JAASEntry{scramModule, "required", opts("username", "my-user", "password", "Z2VuZXJhdGVkLXBhc3N3b3Jk")}},
		{"msk iam with role",
			iamModule + ` required awsProfileName="p" awsRoleArn="arn:aws:iam::123456789012:role/r" awsStsRegion="us-east-1";`,
			JAASEntry{iamModule, "required", opts("awsProfileName", "p", "awsRoleArn", "arn:aws:iam::123456789012:role/r", "awsStsRegion", "us-east-1")}},
		{"msk iam bare",
			iamModule + ` required;`,
			JAASEntry{iamModule, "required", nil}},
		{"oauthbearer client credentials",
			oauthModule + ` required clientId="c" clientSecret="s" scope="kafka" ;`,
			JAASEntry{oauthModule, "required", opts("clientId", "c", "clientSecret", "s", "scope", "kafka")}},
		{"kerberos keytab",
			krb5Module + ` required useKeyTab=true storeKey=true keyTab="/etc/security/keytabs/kafka.keytab" principal="kafka/host@EXAMPLE.COM";`,
			JAASEntry{krb5Module, "required", opts("useKeyTab", "true", "storeKey", "true", "keyTab", "/etc/security/keytabs/kafka.keytab", "principal", "kafka/host@EXAMPLE.COM")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJAASConfig(tt.in)
			if err != nil {
				t.Fatalf("ParseJAASConfig: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseJAASConfigSyntax(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want JAASEntry
	}{
		{"multi-line with indentation",
			plainModule + " required\n    username=\"alice\"\n    password=\"secret\";\n",
			JAASEntry{plainModule, "required", opts("username", "alice", "password", "secret")}},
		{"crlf lines and tabs",
			plainModule + "\r\n\trequired\r\n\tusername=\"alice\"\r\n\tpassword=\"secret\"\r\n;",
			JAASEntry{plainModule, "required", opts("username", "alice", "password", "secret")}},
		{"slash-slash and block comments",
			"// client login\n" + plainModule + " /* the\nflag */ required\n  username=\"alice\" // the user\n  password=\"secret\"; /* trailing */",
			JAASEntry{plainModule, "required", opts("username", "alice", "password", "secret")}},
		{"block comment without end runs to the end",
			plainModule + ` required username="alice" password="secret"; /* unclosed`,
			JAASEntry{plainModule, "required", opts("username", "alice", "password", "secret")}},
		{"flag is case-insensitive",
			plainModule + ` REQUIRED username="u" password="p";`,
			JAASEntry{plainModule, "required", opts("username", "u", "password", "p")}},
		{"requisite", plainModule + ` Requisite;`, JAASEntry{plainModule, "requisite", nil}},
		{"sufficient", plainModule + ` sufficient;`, JAASEntry{plainModule, "sufficient", nil}},
		{"optional", plainModule + ` optional;`, JAASEntry{plainModule, "optional", nil}},
		{"escaped quote and backslash",
			plainModule + ` required username="a\"b" password="c\\d";`,
			JAASEntry{plainModule, "required", opts("username", `a"b`, "password", `c\d`)}},
		{"even number of backslashes before the quote",
			plainModule + ` required username="u" password="ends\\\\";`,
			JAASEntry{plainModule, "required", opts("username", "u", "password", `ends\\`)}},
		{"single quotes hold double quotes",
			plainModule + ` required username='say "hi"' password="it's";`,
			JAASEntry{plainModule, "required", opts("username", `say "hi"`, "password", "it's")}},
		{"semicolon and equals inside quotes",
			plainModule + ` required username="u" password="a;b=c;";`,
			JAASEntry{plainModule, "required", opts("username", "u", "password", "a;b=c;")}},
		{"comment markers inside quotes",
			plainModule + ` required username="//u" password="/*p*/";`,
			JAASEntry{plainModule, "required", opts("username", "//u", "password", "/*p*/")}},
		{"escapes",
			plainModule + ` required k="\n\t\b\f\r\a\v\q\'";`,
			JAASEntry{plainModule, "required", opts("k", "\n\t\b\f\r\a\vq'")}},
		{"octal escapes",
			plainModule + ` required k="\101\0\12x\377\477\8";`,
			JAASEntry{plainModule, "required", opts("k", "A\x00\nx\u00ff\x27"+"7"+"8")}},
		{"backslash before a line break keeps the line break",
			plainModule + " required k=\"one\\\ntwo\";",
			JAASEntry{plainModule, "required", opts("k", "one\ntwo")}},
		{"unquoted value ends at semicolon",
			plainModule + ` required username=alice password=abc;`,
			JAASEntry{plainModule, "required", opts("username", "alice", "password", "abc")}},
		{"unquoted words take digits, dots, dashes, underscores and dollars",
			plainModule + ` required username=a1.b-c_d$ password=x9;`,
			JAASEntry{plainModule, "required", opts("username", "a1.b-c_d$", "password", "x9")}},
		{"spaces around equals",
			plainModule + ` required username = "u"   password= 'p' ;`,
			JAASEntry{plainModule, "required", opts("username", "u", "password", "p")}},
		{"repeated key kept in order",
			plainModule + ` required password="one" password="two";`,
			JAASEntry{plainModule, "required", opts("password", "one", "password", "two")}},
		{"empty quoted value",
			plainModule + ` required password="";`,
			JAASEntry{plainModule, "required", opts("password", "")}},
		{"quoted class name, flag and key",
			`"my.Login Module" 'required' "the key"="v";`,
			JAASEntry{"my.Login Module", "required", opts("the key", "v")}},
		{"non-ascii letters are word characters",
			plainModule + ` required username=jürgen password="pässwörd";`,
			JAASEntry{plainModule, "required", opts("username", "jürgen", "password", "pässwörd")}},
		{"control characters are white space",
			plainModule + "\x00required\x1fusername=\"u\"\x0b;",
			JAASEntry{plainModule, "required", opts("username", "u")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJAASConfig(tt.in)
			if err != nil {
				t.Fatalf("ParseJAASConfig: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
			again, err := ParseJAASConfig(got.String())
			if err != nil {
				t.Fatalf("re-parse %s: %v", got.String(), err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip through %s:\ngot  %#v\nwant %#v", got.String(), again, got)
			}
		})
	}
}

func TestParseJAASConfigErrors(t *testing.T) {
	const secret = "hunter2-secret"
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error
	}{
		{"empty", "", []string{"no login module"}},
		{"only a comment", "// nothing here", []string{"no login module"}},
		{"missing semicolon",
			plainModule + ` required username="u" password="` + secret + `"`,
			[]string{"login module " + plainModule, "not terminated by ';'"}},
		{"missing flag",
			plainModule + ` username="u" password="` + secret + `";`,
			[]string{`invalid control flag "username"`, "line 1, column 57", "required, requisite, sufficient or optional"}},
		{"missing flag and options", plainModule + `;`,
			[]string{"control flag missing", "column 56"}},
		{"module only", plainModule,
			[]string{"control flag missing"}},
		{"bad flag",
			plainModule + ` mandatory username="u" password="` + secret + `";`,
			[]string{`invalid control flag "mandatory"`}},
		{"missing value",
			plainModule + ` required username="u" password=;`,
			[]string{"option password at line 1, column 79", "value not specified", `password="value"`}},
		{"missing equals",
			plainModule + ` required username="u" password "` + secret + `";`,
			[]string{"option password", "value not specified"}},
		{"value at end", plainModule + ` required password=`,
			[]string{"option password", "value not specified"}},
		{"unquoted number",
			plainModule + ` required username="u" password=123;`,
			[]string{"option password", "number", `password="..."`}},
		{"unquoted negative number",
			plainModule + ` required username="u" password=-1;`,
			[]string{"option password", "number"}},
		{"unquoted leading dot",
			plainModule + ` required username="u" password=.5abc;`,
			[]string{"option password", "number"}},
		{"unquoted value with a slash",
			krb5Module + ` required keyTab=/etc/kafka.keytab principal="kafka/h@R";`,
			[]string{"option keyTab", "'/' starts a comment"}},
		{"unquoted value with a slash inside",
			plainModule + ` required username=u password=abc/` + secret + `;`,
			[]string{"not terminated by ';'", "'/' at line 1, column 89"}},
		{"unquoted value with a plus",
			plainModule + ` required username=u password=abc+` + secret + `;`,
			[]string{"expected an option key", "if option password holds characters"}},
		{"unquoted value with a space",
			plainModule + ` required username=u password=abc ` + secret + `;`,
			[]string{"expected key=\"value\" after option password", "holds spaces, quote it"}},
		{"unquoted value with a space at the end",
			plainModule + ` required username=u password=abc ` + secret,
			[]string{"after option password"}},
		{"two modules without options",
			plainModule + ` required; ` + secret + `;`,
			[]string{"login module 2", "quote values that contain ';'"}},
		{"unquoted semicolon splits the entry",
			plainModule + ` required username=u password=abc;` + secret + `;`,
			[]string{"login module 2", "control flag missing", "if option password holds a ';', quote it"}},
		{"unquoted semicolon then space",
			plainModule + ` required username=u password=abc;` + secret + ` x;`,
			[]string{"login module 2", "invalid control flag", "quote it"}},
		{"two login modules",
			plainModule + ` required username="u" password="p"; ` + scramModule + ` required username="u" password="p";`,
			[]string{"2 login modules", "exactly one"}},
		{"stray semicolon",
			plainModule + ` required username="u" password="p";;`,
			[]string{"expected a login module class name, found ';'"}},
		{"commas between options",
			plainModule + ` required username="u", password="` + secret + `";`,
			[]string{"expected an option key, found ','", "separated by spaces"}},
		{"unterminated quote",
			plainModule + ` required username="u" password="` + secret + `;`,
			[]string{"option password", "line 1, column 88", "quoted string not closed"}},
		{"quote closed on the next line",
			plainModule + " required username=\"u\" password=\"" + secret + "\n\";",
			[]string{"option password", "not closed on its line"}},
		{"odd number of backslashes escapes the quote",
			plainModule + ` required username="u" password="ends\";`,
			[]string{"option password", "quoted string not closed"}},
		{"backslash at the end",
			plainModule + ` required username="u" password="` + secret + `\`,
			[]string{"quoted string not closed"}},
		{"hash is not a comment",
			plainModule + " required # client\nusername=\"u\";",
			[]string{"expected an option key, found a punctuation character"}},
		{"number as key", plainModule + ` required 1="x";`,
			[]string{"expected an option key, found a number"}},
		{"jaas file section",
			`KafkaClient { ` + plainModule + ` required username="u" password="p"; };`,
			[]string{"not a JAAS file section", `"KafkaClient {"`}},
		{"delete character", plainModule + " required username=\"u\"\x7f;",
			[]string{"expected an option key, found a punctuation character"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJAASConfig(tt.in)
			if err == nil {
				t.Fatalf("no error, got %#v", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "hunter") {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

func TestParseJAAS(t *testing.T) {
	tests := []struct {
		name, in, user, pass string
		err                  string // substring; "" means success
	}{
		{"plain", plainModule + ` required username="alice" password="s3cr;et=x";`, "alice", "s3cr;et=x", ""},
		{"scram single quotes", scramModule + ` required username='bob' password='pw';`, "bob", "pw", ""},
		{"event hubs", plainModule + ` required username="$ConnectionString" password="` + eventHubsKey + `";`, "$ConnectionString", eventHubsKey, ""},
		{"last repeated key wins", plainModule + ` required username="a" username="b" password="p";`, "b", "p", ""},
		{"empty", "  ", "", "", "missing"},
		{"password missing", plainModule + ` required username="alice";`, "", "", "no password option"},
		{"username missing", plainModule + ` required password="pw";`, "", "", "no username option"},
		{"both missing", iamModule + ` required;`, "", "", "no username and no password"},
		{"empty password", plainModule + ` required username="alice" password="";`, "", "", "option password is empty"},
		{"syntax error", plainModule + ` required username="alice" password="pw"`, "", "", "not terminated by ';'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, pass, err := ParseJAAS(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if user != tt.user || pass != tt.pass {
				t.Fatalf("got %q %q, want %q %q", user, pass, tt.user, tt.pass)
			}
		})
	}
}

func TestJAASEntryOptionLastWins(t *testing.T) {
	e := JAASEntry{Options: opts("a", "1", "b", "2", "a", "3")}
	if v, ok := e.Option("a"); !ok || v != "3" {
		t.Errorf("Option(a) = %q %v, want 3 true", v, ok)
	}
	if v, ok := e.Option("c"); ok || v != "" {
		t.Errorf("Option(c) = %q %v, want \"\" false", v, ok)
	}
}

func TestJAASEntryString(t *testing.T) {
	tests := []struct {
		e    JAASEntry
		want string
	}{
		{JAASEntry{iamModule, "required", nil}, iamModule + ` required;`},
		{JAASEntry{plainModule, "required", opts("username", "u", "password", `a"b\c;d`)},
			plainModule + ` required username="u" password="a\"b\\c;d";`},
		{JAASEntry{"my Module", "optional", opts("the key", "line\nbreak\r", "", "")},
			`"my Module" optional "the key"="line\nbreak\r" ""="";`},
		{JAASEntry{"x", "required", opts("-k", "v", "1k", "v", "k-1.$_", "v")},
			`x required "-k"="v" "1k"="v" k-1.$_="v";`},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
		back, err := ParseJAASConfig(tt.e.String())
		if err != nil {
			t.Errorf("ParseJAASConfig(%s): %v", tt.e.String(), err)
			continue
		}
		if !reflect.DeepEqual(back, tt.e) {
			t.Errorf("round trip of %s: got %#v", tt.want, back)
		}
	}
}

func TestParseJAASFile(t *testing.T) {
	const propertyFile = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
	tests := []struct {
		name string
		in   string
		want map[string][]JAASEntry
	}{
		{"connect rest basic auth",
			"KafkaConnect {\n  " + propertyFile + " required\n  file=\"/mnt/secret/credentials.properties\";\n};\n",
			map[string][]JAASEntry{"KafkaConnect": {{propertyFile, "required", opts("file", "/mnt/secret/credentials.properties")}}}},
		{"broker file with two sections and comments",
			`/* broker side */
KafkaServer {
    ` + plainModule + ` required
    username="admin"
    password="admin-secret"
    user_admin="admin-secret"   // the broker's own user
    user_alice="alice-secret";
};
Client {
   org.apache.zookeeper.server.auth.DigestLoginModule required
   username="bob"
   password="bobsecret";
};`,
			map[string][]JAASEntry{
				"KafkaServer": {{plainModule, "required", opts("username", "admin", "password", "admin-secret", "user_admin", "admin-secret", "user_alice", "alice-secret")}},
				"Client":      {{"org.apache.zookeeper.server.auth.DigestLoginModule", "required", opts("username", "bob", "password", "bobsecret")}},
			}},
		{"stacked modules and kerberos",
			"KafkaClient {\n    " + krb5Module + " sufficient\n    useKeyTab=true\n    storeKey=true\n    keyTab=\"/etc/security/keytabs/kafka_client.keytab\"\n    principal=\"kafka-client-1@EXAMPLE.COM\";\n    " +
				plainModule + " Optional username=u password=\"p\";\n};",
			map[string][]JAASEntry{"KafkaClient": {
				{krb5Module, "sufficient", opts("useKeyTab", "true", "storeKey", "true", "keyTab", "/etc/security/keytabs/kafka_client.keytab", "principal", "kafka-client-1@EXAMPLE.COM")},
				{plainModule, "optional", opts("username", "u", "password", "p")},
			}}},
		{"empty section and quoted name", `"My App" { };`, map[string][]JAASEntry{"My App": {}}},
		{"star is a word character", `A { x.* required k=a*b; };`, map[string][]JAASEntry{"A": {{"x.*", "required", opts("k", "a*b")}}}},
		{"empty file", "// nothing\n", map[string][]JAASEntry{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJAASFile(tt.in)
			if err != nil {
				t.Fatalf("ParseJAASFile: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseJAASFileErrors(t *testing.T) {
	const secret = "hunter2-secret"
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"single quotes", `A { x required password='` + secret + `'; };`,
			[]string{"option password", "single quotes", "double quotes"}},
		{"single-quoted class", `A { 'x' required; };`,
			[]string{"login module class name", "single quotes"}},
		{"missing semicolon before brace", `A { x required password="` + secret + `" };`,
			[]string{"section A", "not terminated by ';'"}},
		{"missing semicolon after brace", `A { x required; }`,
			[]string{"section A must end with \"};\""}},
		{"section not closed", "A {\n x required;\n",
			[]string{"section A is not closed", "line 3"}},
		{"missing brace", `A x required; };`,
			[]string{"expected '{' after application name A"}},
		{"duplicate section", `A { x required; }; A { y required; };`,
			[]string{"application A is configured twice"}},
		{"number value", `A { x required retries=3; };`,
			[]string{"option retries", "number"}},
		{"bad flag", `A { x mandatory; };`,
			[]string{"section A", `invalid control flag "mandatory"`}},
		{"unterminated quote", `A { x required password="` + secret + "\n\"; };",
			[]string{"option password", "not closed on its line"}},
		{"no name", `{ x required; };`,
			[]string{"expected an application name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJAASFile(tt.in)
			if err == nil {
				t.Fatalf("no error, got %#v", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter") {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

// FuzzParseJAASConfig checks that parsing never panics and that whatever
// parses survives String and a second parse unchanged.
func FuzzParseJAASConfig(f *testing.F) {
	for _, s := range []string{
		plainModule + ` required username='KEY' password='SECRET';`,
		plainModule + ` required username="$ConnectionString" password="` + eventHubsKey + `";`,
		iamModule + ` required;`,
		krb5Module + ` required useKeyTab=true keyTab="/etc/k.keytab" principal="kafka/h@R";`,
		"x required k=\"\\101\\0\\n\\\\\\\"\" // c\n /* d */ k2='v;=' ;",
		"x required k=-1 k2=.5 k3=/c\n;",
		`A { x required; };`,
		"x required k=\"a\\\nb\";",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseJAASConfig(s)
		_, _ = ParseJAASFile(s)
		_, _, _ = ParseJAAS(s)
		if err != nil {
			return
		}
		again, err := ParseJAASConfig(e.String())
		if err != nil {
			t.Fatalf("re-parse of %q as %q: %v", s, e.String(), err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("round trip of %q through %q:\ngot  %#v\nwant %#v", s, e.String(), again, e)
		}
	})
}
