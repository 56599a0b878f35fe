package configs

import "strings"

// SASL is how a client authenticates: the mechanism and its credentials.
type SASL struct {
	// Mechanism is sasl.mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism string
	// Username and Password come from sasl.jaas.config.
	Username string
	Password Secret
}

// saslSettings reads sasl.mechanism and sasl.jaas.config of one cluster.
func (b *builder) saslSettings(get lookupFunc) SASL {
	var s SASL
	mech, where := get(KeySASLMechanism)
	s.Mechanism = strings.ToUpper(mech)
	switch s.Mechanism {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
	default:
		b.fail(where, "SASL mechanism %q is not supported: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", mech)
	}
	jaas, where := get(KeySASLJAASConfig)
	user, pass, err := ParseJAAS(jaas)
	if err != nil {
		b.fail(where, "%v", err)
	}
	s.Username, s.Password = user, Secret(pass)
	return s
}
