package saslfront

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MSKIAM verifies AWS_MSK_IAM as Amazon MSK does, following the payload
// format documented by aws-msk-iam-auth: a JSON object with version, host,
// user-agent, action and the SigV4 presigned-URL query parameters
// (x-amz-*), signed for service kafka-cluster over
// "GET / <query> host:<host>". The signature is recomputed with the
// secret key of the access key named in x-amz-credential.
type MSKIAM struct {
	// Secrets maps access key IDs to secret access keys.
	Secrets map[string]string
	// SessionTokens, when an access key is in it, is the session token
	// the client must send with that key.
	SessionTokens map[string]string
	// Region is the region the signature must be scoped to.
	Region string
}

// Name implements Mechanism.
func (MSKIAM) Name() string { return "AWS_MSK_IAM" }

// Begin implements Mechanism.
func (m MSKIAM) Begin(local net.Addr) Exchange {
	host, _, _ := net.SplitHostPort(local.String())
	return exchangeFunc(func(msg []byte) ([]byte, *Result, error) {
		var p map[string]string
		if err := json.Unmarshal(msg, &p); err != nil {
			return nil, nil, errors.New("payload is not a JSON object of strings")
		}
		if p["version"] != "2020_10_22" {
			return nil, nil, fmt.Errorf("version %q is not 2020_10_22", p["version"])
		}
		if p["host"] != host {
			return nil, nil, fmt.Errorf("host %q is not the broker's %q", p["host"], host)
		}
		if p["user-agent"] == "" {
			return nil, nil, errors.New("no user-agent")
		}
		params := map[string]string{}
		for k, v := range p {
			switch k {
			case "action":
				params["Action"] = v
			case "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
				"x-amz-security-token", "x-amz-signedheaders":
				params[canonicalAmz(k)] = v
			}
		}
		principal, err := m.verify(params, p["x-amz-signature"], host, time.Now())
		if err != nil {
			return nil, nil, err
		}
		reply, _ := json.Marshal(map[string]string{"version": "2020_10_22", "request-id": fmt.Sprintf("strait-test-%d", time.Now().UnixNano())})
		return reply, &Result{Principal: principal}, nil
	})
}

func canonicalAmz(k string) string {
	switch k {
	case "x-amz-signedheaders":
		return "X-Amz-SignedHeaders"
	case "x-amz-security-token":
		return "X-Amz-Security-Token"
	}
	rest := strings.TrimPrefix(k, "x-amz-")
	return "X-Amz-" + strings.ToUpper(rest[:1]) + rest[1:]
}

// verify checks the presigned parameters (signature excluded) against
// signature for host, and returns the access key ID.
func (m MSKIAM) verify(params map[string]string, signature, host string, now time.Time) (string, error) {
	if params["Action"] != "kafka-cluster:Connect" {
		return "", fmt.Errorf("action %q is not kafka-cluster:Connect", params["Action"])
	}
	if params["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256" {
		return "", fmt.Errorf("algorithm %q is not AWS4-HMAC-SHA256", params["X-Amz-Algorithm"])
	}
	if params["X-Amz-SignedHeaders"] != "host" {
		return "", errors.New("signed headers are not \"host\"")
	}
	cred := strings.Split(params["X-Amz-Credential"], "/")
	if len(cred) != 5 || cred[3] != "kafka-cluster" || cred[4] != "aws4_request" {
		return "", errors.New("credential is not <key>/<date>/<region>/kafka-cluster/aws4_request")
	}
	akid, date, region := cred[0], cred[1], cred[2]
	if region != m.Region {
		return "", fmt.Errorf("credential scoped to region %q, the broker is in %q", region, m.Region)
	}
	secret, ok := m.Secrets[akid]
	if !ok {
		return "", fmt.Errorf("unknown access key %q", akid)
	}
	if want, ok := m.SessionTokens[akid]; ok && params["X-Amz-Security-Token"] != want {
		return "", errors.New("wrong or missing session token")
	}
	stamp := params["X-Amz-Date"]
	at, err := time.Parse("20060102T150405Z", stamp)
	if err != nil || stamp[:8] != date {
		return "", errors.New("x-amz-date is not yyyyMMddTHHmmssZ of the credential's date")
	}
	expires, err := strconv.Atoi(params["X-Amz-Expires"])
	if err != nil || expires <= 0 || expires > 900 {
		return "", errors.New("x-amz-expires is not 1..900 seconds")
	}
	const skew = 5 * time.Minute
	if now.Before(at.Add(-skew)) || now.After(at.Add(time.Duration(expires)*time.Second+skew)) {
		return "", errors.New("signature is expired or from the future")
	}
	// Canonical query: each name and value URI-encoded, sorted by name.
	var q []string
	for k, v := range params {
		q = append(q, uriEncode(k)+"="+uriEncode(v))
	}
	slices.Sort(q)
	canonical := "GET\n/\n" + strings.Join(q, "&") + "\nhost:" + host + "\n\nhost\n" + hexSHA256("")
	scope := date + "/" + region + "/kafka-cluster/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hexSHA256(canonical)
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, "kafka-cluster")
	k = hmacSHA256(k, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(k, toSign))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return "", errors.New("signature does not match")
	}
	return akid, nil
}

// uriEncode is SigV4's UriEncode: every byte but A-Z a-z 0-9 - . _ ~ as
// %XX with upper-case hex.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// MSKIAMOAuth verifies OAUTHBEARER tokens made by aws-msk-iam-auth's
// IAMOAuthBearerLoginCallbackHandler: the base64url (unpadded) text of a
// SigV4 presigned URL https://kafka.<region>.amazonaws.com/?Action=
// kafka-cluster:Connect&...&User-Agent=..., the User-Agent appended after
// signing. The session lifetime is what remains of X-Amz-Expires.
type MSKIAMOAuth struct{ MSKIAM }

// Name implements Mechanism.
func (MSKIAMOAuth) Name() string { return "OAUTHBEARER" }

// Begin implements Mechanism.
func (m MSKIAMOAuth) Begin(net.Addr) Exchange {
	return exchangeFunc(func(msg []byte) ([]byte, *Result, error) {
		token, _, err := ParseOAuthBearer(msg)
		if err != nil {
			return nil, nil, err
		}
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, nil, errors.New("token is not base64url")
		}
		u, err := url.Parse(string(raw))
		if err != nil {
			return nil, nil, errors.New("token is not a URL")
		}
		host := "kafka." + m.Region + ".amazonaws.com"
		if u.Scheme != "https" || u.Host != host || (u.Path != "/" && u.Path != "") {
			return nil, nil, fmt.Errorf("token URL is not https://%s/", host)
		}
		params := map[string]string{}
		var signature string
		for k, vs := range u.Query() {
			switch k {
			case "X-Amz-Signature":
				signature = vs[0]
			case "User-Agent":
			default:
				params[k] = vs[0]
			}
		}
		principal, err := m.verify(params, signature, host, time.Now())
		if err != nil {
			return nil, nil, err
		}
		at, _ := time.Parse("20060102T150405Z", params["X-Amz-Date"])
		exp, _ := strconv.Atoi(params["X-Amz-Expires"])
		life := time.Until(at.Add(time.Duration(exp) * time.Second))
		return nil, &Result{Principal: principal, Lifetime: max(life, time.Millisecond)}, nil
	})
}
