package saslfront

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// GSSAPI verifies Kerberos V5 over SASL GSSAPI (RFC 4752) as a Kafka broker
// with a service keytab does: the client's AP-REQ (its service ticket must
// decrypt with the keytab and its authenticator with the ticket's session
// key), then the security-layer negotiation, in which the front offers "no
// security layer" in a wrap token and verifies the client's wrapped answer.
type GSSAPI struct {
	// Keytab holds the service principal's key, e.g. kafka/127.0.0.1.
	Keytab *keytab.Keytab
}

// Name implements Mechanism.
func (GSSAPI) Name() string { return "GSSAPI" }

// Begin implements Mechanism.
func (g GSSAPI) Begin(net.Addr) Exchange { return &gssExchange{kt: g.Keytab} }

type gssExchange struct {
	kt        *keytab.Keytab
	step      int
	key       types.EncryptionKey
	principal string
}

func (e *gssExchange) Step(msg []byte) ([]byte, *Result, error) {
	e.step++
	switch e.step {
	case 1:
		var apReq messages.APReq
		if err := unmarshalAPReq(msg, &apReq); err != nil {
			return nil, nil, err
		}
		ok, err := apReq.Verify(e.kt, 5*time.Minute, types.HostAddress{}, nil)
		if err != nil || !ok {
			return nil, nil, fmt.Errorf("AP-REQ rejected: %v", err)
		}
		e.key = apReq.Ticket.DecryptedEncPart.Key
		e.principal = apReq.Authenticator.CName.PrincipalNameString() + "@" + apReq.Authenticator.CRealm
		et, err := crypto.GetEtype(e.key.KeyType)
		if err != nil {
			return nil, nil, err
		}
		// RFC 4752 3.1: one octet of offered security layers (1: none)
		// and three of maximum message size.
		wt := gssapi.WrapToken{Flags: 0x01, EC: uint16(et.GetHMACBitLength() / 8), Payload: []byte{1, 0, 0x10, 0}}
		if err := wt.SetCheckSum(e.key, keyusage.GSSAPI_ACCEPTOR_SEAL); err != nil {
			return nil, nil, err
		}
		b, err := wt.Marshal()
		return b, nil, err
	case 2:
		var wt gssapi.WrapToken
		if err := wt.Unmarshal(msg, false); err != nil {
			return nil, nil, fmt.Errorf("security layer answer: %v", err)
		}
		if ok, err := wt.Verify(e.key, keyusage.GSSAPI_INITIATOR_SEAL); !ok {
			return nil, nil, fmt.Errorf("security layer answer does not verify: %v", err)
		}
		if len(wt.Payload) < 4 || wt.Payload[0]&1 == 0 {
			return nil, nil, errors.New("client did not choose \"no security layer\"")
		}
		return nil, &Result{Principal: e.principal}, nil
	}
	return nil, nil, errors.New("GSSAPI exchange already complete")
}

// krb5OID is the DER encoding of the Kerberos V5 GSS mechanism OID.
var krb5OID = []byte{6, 9, 42, 134, 72, 134, 247, 18, 1, 2, 2}

// unmarshalAPReq reads an RFC 2743 initial context token carrying a
// Kerberos AP-REQ (RFC 4121 4.1): 0x60, DER length, the mechanism OID, the
// token id 01 00, the AP-REQ.
func unmarshalAPReq(b []byte, apReq *messages.APReq) error {
	if len(b) < 2 || b[0] != 0x60 {
		return errors.New("not a GSS initial context token")
	}
	n, l := int(b[1]), 1
	if n&0x80 != 0 {
		l += n & 0x7f
		if len(b) < 1+l {
			return errors.New("short GSS token")
		}
		n = 0
		for _, c := range b[2 : 1+l] {
			n = n<<8 | int(c)
		}
	}
	b = b[1+l:]
	if len(b) != n || !bytes.HasPrefix(b, krb5OID) || len(b) < len(krb5OID)+2 {
		return errors.New("GSS token is not Kerberos V5")
	}
	b = b[len(krb5OID):]
	if b[0] != 1 || b[1] != 0 {
		return errors.New("GSS token is not an AP-REQ")
	}
	if err := apReq.Unmarshal(b[2:]); err != nil {
		return fmt.Errorf("read AP-REQ: %v", err)
	}
	return nil
}
