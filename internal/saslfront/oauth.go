package saslfront

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// OAuthBearer verifies OAUTHBEARER (RFC 7628) with RS256-signed JWTs, as
// Kafka's OAuthBearerValidatorCallbackHandler does: signature, exp and the
// subject claim. The session lifetime is the token's remaining lifetime,
// so clients must re-authenticate with a fresh token.
type OAuthBearer struct {
	// Key verifies the token signature.
	Key *rsa.PublicKey
	// SubClaim names the principal claim; "sub" when empty.
	SubClaim string
}

// Name implements Mechanism.
func (OAuthBearer) Name() string { return "OAUTHBEARER" }

// Begin implements Mechanism.
func (o OAuthBearer) Begin(net.Addr) Exchange {
	return exchangeFunc(func(msg []byte) ([]byte, *Result, error) {
		token, ext, err := ParseOAuthBearer(msg)
		if err != nil {
			return nil, nil, err
		}
		sub := o.SubClaim
		if sub == "" {
			sub = "sub"
		}
		claims, err := VerifyJWT(token, o.Key, time.Now())
		if err != nil {
			return nil, nil, err
		}
		principal, _ := claims[sub].(string)
		if principal == "" {
			return nil, nil, fmt.Errorf("token has no %q claim", sub)
		}
		exp, _ := claims["exp"].(float64)
		expiry := time.UnixMilli(int64(exp * 1000))
		return nil, &Result{Principal: principal, Lifetime: max(time.Until(expiry), time.Millisecond), Extensions: ext, Expiry: expiry}, nil
	})
}

type exchangeFunc func([]byte) ([]byte, *Result, error)

func (f exchangeFunc) Step(msg []byte) ([]byte, *Result, error) { return f(msg) }

// ParseOAuthBearer reads the client's first OAUTHBEARER message
// ("n,,\x01auth=Bearer <token>\x01k=v\x01\x01") into the token and the
// extensions.
func ParseOAuthBearer(msg []byte) (token string, ext map[string]string, err error) {
	s := string(msg)
	if !strings.HasPrefix(s, "n,") || !strings.HasSuffix(s, "\x01\x01") {
		return "", nil, errors.New("malformed OAUTHBEARER client message")
	}
	parts := strings.Split(strings.TrimSuffix(s, "\x01\x01"), "\x01")
	ext = map[string]string{}
	for _, kv := range parts[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return "", nil, errors.New("malformed OAUTHBEARER key/value")
		}
		if k == "auth" {
			tok, ok := strings.CutPrefix(v, "Bearer ")
			if !ok {
				return "", nil, errors.New("auth is not a Bearer token")
			}
			token = tok
			continue
		}
		ext[k] = v
	}
	if token == "" {
		return "", nil, errors.New("no token")
	}
	return token, ext, nil
}

// VerifyJWT checks an RS256 JWT's signature with key and that it has not
// expired at now, and returns its claims.
func VerifyJWT(token string, key *rsa.PublicKey, now time.Time) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("token is not a JWS")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, errors.New("token header is not base64url")
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr.Alg != "RS256" {
		return nil, fmt.Errorf("token algorithm %q is not RS256", hdr.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("token signature is not base64url")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		return nil, errors.New("token signature does not verify")
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("token payload is not base64url")
	}
	var claims map[string]any
	if err := json.Unmarshal(pb, &claims); err != nil {
		return nil, errors.New("token payload is not JSON")
	}
	exp, ok := claims["exp"].(float64)
	if !ok {
		return nil, errors.New("token has no exp")
	}
	if expiry := time.UnixMilli(int64(exp * 1000)); !now.Before(expiry) {
		return nil, fmt.Errorf("token expired at %s", expiry.UTC().Format(time.RFC3339Nano))
	}
	return claims, nil
}

// SignJWT makes an RS256 JWT of claims: what a test's token endpoint
// issues.
func SignJWT(key *rsa.PrivateKey, claims map[string]any) (string, error) {
	hb, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	pb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(pb)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
