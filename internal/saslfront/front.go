package saslfront

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Mechanism is the server side of one SASL mechanism.
type Mechanism interface {
	// Name is the mechanism as SaslHandshake names it.
	Name() string
	// Begin starts one authentication (a connection's first or a
	// re-authentication) on a connection accepted at local.
	Begin(local net.Addr) Exchange
}

// Exchange is the server side of one authentication.
type Exchange interface {
	// Step takes the client's next SASL message. It returns the reply to
	// send and, once the client is authenticated, a non-nil Result. An
	// error rejects the client; its text is sent to the client, so it must
	// not contain secrets.
	Step(msg []byte) (reply []byte, res *Result, err error)
}

// Result is a successful authentication.
type Result struct {
	// Principal is who authenticated.
	Principal string
	// Lifetime is how long the session may last before the client must
	// re-authenticate (KIP-368); 0 means for ever.
	Lifetime time.Duration
	// Extensions are the SASL extensions the client sent (OAUTHBEARER).
	Extensions map[string]string
	// Expiry is when the credential expires (OAUTHBEARER tokens); zero
	// when unknown.
	Expiry time.Time
}

// Auth is one authentication the front accepted.
type Auth struct {
	Principal  string
	Reauth     bool // a re-authentication of an authenticated connection
	Lifetime   time.Duration
	Extensions map[string]string
	Expiry     time.Time // the credential's, when known
	At         time.Time
}

// Front answers the SASL exchange of one mechanism in front of kfake.
type Front struct {
	mech Mechanism
	// MaxSession caps the session lifetime given to clients (Kafka's
	// connections.max.reauth.ms); 0 leaves the mechanism's lifetime.
	MaxSession time.Duration

	wg sync.WaitGroup

	mu        sync.Mutex // guards the fields below
	listeners []*listener
	auths     []Auth
	failures  []string
	expired   int
	closed    bool
}

// New returns a front for mechanism m. Set MaxSession before use.
func New(m Mechanism) *Front { return &Front{mech: m} }

// Listen opens a TCP listener at address and returns the listener kfake
// should accept from: pass it as kfake.ListenFn(f.Listen).
func (f *Front) Listen(network, address string) (net.Listener, error) {
	tcp, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	l := &listener{f: f, tcp: tcp, conns: make(chan net.Conn), done: make(chan struct{})}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		tcp.Close()
		return nil, errors.New("saslfront: closed")
	}
	f.listeners = append(f.listeners, l)
	f.wg.Add(1)
	f.mu.Unlock()
	go l.accept()
	return l, nil
}

// Auths returns the authentications accepted so far.
func (f *Front) Auths() []Auth {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Auth(nil), f.auths...)
}

// Failures returns why clients were rejected so far.
func (f *Front) Failures() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.failures...)
}

// Expired is how many connections sent a request after their session
// expired and were closed for it.
func (f *Front) Expired() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.expired
}

// Close closes every listener and connection and waits for the front's
// goroutines. It is safe to call more than once and after kfake's Close.
func (f *Front) Close() {
	f.mu.Lock()
	f.closed = true
	ls := f.listeners
	f.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	f.wg.Wait()
}

func (f *Front) fail(format string, args ...any) {
	f.mu.Lock()
	f.failures = append(f.failures, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// listener is what kfake accepts from: connections arrive as the kfake
// end of a pipe, the address is the front's.
type listener struct {
	f     *Front
	tcp   net.Listener
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once

	mu   sync.Mutex // guards open
	open map[net.Conn]bool
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.tcp.Close()
		l.mu.Lock()
		for c := range l.open {
			c.Close()
		}
		l.mu.Unlock()
	})
	return nil
}

func (l *listener) Addr() net.Addr { return l.tcp.Addr() }

func (l *listener) track(c net.Conn, add bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if add {
		select {
		case <-l.done:
			return false
		default:
		}
		if l.open == nil {
			l.open = map[net.Conn]bool{}
		}
		l.open[c] = true
		return true
	}
	delete(l.open, c)
	return true
}

func (l *listener) accept() {
	defer l.f.wg.Done()
	for {
		c, err := l.tcp.Accept()
		if err != nil {
			return
		}
		if !l.track(c, true) {
			c.Close()
			return
		}
		l.f.wg.Add(1)
		go func() {
			defer l.f.wg.Done()
			defer l.track(c, false)
			l.serve(c)
		}()
	}
}

// conn is one client connection and its pipe to kfake.
type conn struct {
	f      *Front
	client net.Conn
	broker net.Conn // the front's end of the pipe kfake reads

	wmu sync.Mutex // serializes writes to client

	exchange Exchange
	authed   bool
	expiry   time.Time // zero: no expiry
}

func (l *listener) serve(client net.Conn) {
	defer client.Close()
	front, back := net.Pipe()
	defer front.Close()
	select {
	case l.conns <- back:
	case <-l.done:
		back.Close()
		return
	}
	c := &conn{f: l.f, client: client, broker: front}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		c.copyResponses()
	}()
	err := c.readRequests(l.tcp.Addr())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		l.f.fail("%v", err)
	}
	client.Close()
	front.Close()
	<-copied
}

func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > 100<<20 {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	buf := make([]byte, 4+n)
	copy(buf, size[:])
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		return nil, err
	}
	return buf, nil
}

// copyResponses copies kfake's responses to the client, frame by frame so
// that the front's own responses never interleave with one.
func (c *conn) copyResponses() {
	for {
		frame, err := readFrame(c.broker)
		if err != nil {
			c.client.Close()
			return
		}
		if err := c.write(frame); err != nil {
			c.broker.Close()
			return
		}
	}
}

func (c *conn) write(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.client.Write(frame)
	return err
}

func (c *conn) readRequests(local net.Addr) error {
	r := bufio.NewReader(c.client)
	for {
		frame, err := readFrame(r)
		if err != nil {
			return err
		}
		if len(frame) < 8 {
			return errors.New("short request")
		}
		key := int16(binary.BigEndian.Uint16(frame[4:]))
		switch key {
		case 17, 36: // SaslHandshake, SaslAuthenticate
			if err := c.sasl(frame, local); err != nil {
				return err
			}
			continue
		case 18: // ApiVersions: kfake's answer lists its versions
		default:
			if !c.authed {
				return fmt.Errorf("request key %d before authentication", key)
			}
			if !c.expiry.IsZero() && time.Now().After(c.expiry) {
				c.f.mu.Lock()
				c.f.expired++
				c.f.mu.Unlock()
				return fmt.Errorf("request key %d after the session expired", key)
			}
		}
		if _, err := c.broker.Write(frame); err != nil {
			return err
		}
	}
}

// header is a parsed request header.
type header struct {
	key, version int16
	corr         int32
	body         []byte
}

func parseHeader(frame []byte) (header, kmsg.Request, error) {
	b := frame[4:]
	var h header
	if len(b) < 10 {
		return h, nil, errors.New("short request header")
	}
	h.key = int16(binary.BigEndian.Uint16(b))
	h.version = int16(binary.BigEndian.Uint16(b[2:]))
	h.corr = int32(binary.BigEndian.Uint32(b[4:]))
	b = b[8:]
	if n := int16(binary.BigEndian.Uint16(b)); n > 0 {
		if len(b) < 2+int(n) {
			return h, nil, errors.New("short client id")
		}
		b = b[2+int(n):]
	} else {
		b = b[2:]
	}
	req := kmsg.RequestForKey(h.key)
	if req == nil {
		return h, nil, fmt.Errorf("unknown key %d", h.key)
	}
	req.SetVersion(h.version)
	if req.IsFlexible() {
		var err error
		if b, err = skipTags(b); err != nil {
			return h, nil, err
		}
	}
	h.body = b
	if err := req.ReadFrom(b); err != nil {
		return h, nil, fmt.Errorf("read request key %d v%d: %w", h.key, h.version, err)
	}
	return h, req, nil
}

func skipTags(b []byte) ([]byte, error) {
	n, used := binary.Uvarint(b)
	if used <= 0 {
		return nil, errors.New("bad tagged fields")
	}
	b = b[used:]
	for range n {
		_, used := binary.Uvarint(b)
		if used <= 0 {
			return nil, errors.New("bad tag")
		}
		b = b[used:]
		size, used := binary.Uvarint(b)
		if used <= 0 || uint64(len(b)-used) < size {
			return nil, errors.New("bad tag size")
		}
		b = b[used+int(size):]
	}
	return b, nil
}

func (c *conn) respond(h header, resp kmsg.Response) error {
	resp.SetVersion(h.version)
	buf := make([]byte, 8, 64)
	binary.BigEndian.PutUint32(buf[4:], uint32(h.corr))
	if resp.IsFlexible() {
		buf = append(buf, 0)
	}
	buf = resp.AppendTo(buf)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	return c.write(buf)
}

// sasl answers a SaslHandshake or SaslAuthenticate request.
func (c *conn) sasl(frame []byte, local net.Addr) error {
	h, req, err := parseHeader(frame)
	if err != nil {
		return err
	}
	switch req := req.(type) {
	case *kmsg.SASLHandshakeRequest:
		resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
		resp.SupportedMechanisms = []string{c.f.mech.Name()}
		if h.version < 1 {
			resp.ErrorCode = kerr.UnsupportedVersion.Code
			c.respond(h, resp)
			return errors.New("SaslHandshake v0 (unframed SASL) is not supported by the front")
		}
		if req.Mechanism != c.f.mech.Name() {
			resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
			c.respond(h, resp)
			return fmt.Errorf("client asked for mechanism %q, the front serves %q", req.Mechanism, c.f.mech.Name())
		}
		c.exchange = c.f.mech.Begin(local)
		return c.respond(h, resp)
	case *kmsg.SASLAuthenticateRequest:
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		if c.exchange == nil {
			resp.ErrorCode = kerr.IllegalSaslState.Code
			c.respond(h, resp)
			return errors.New("SaslAuthenticate without SaslHandshake")
		}
		reply, res, err := c.exchange.Step(req.SASLAuthBytes)
		if err != nil {
			msg := err.Error()
			resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
			resp.ErrorMessage = &msg
			c.respond(h, resp)
			return fmt.Errorf("%s authentication failed: %w", c.f.mech.Name(), err)
		}
		resp.SASLAuthBytes = reply
		if res != nil {
			c.exchange = nil
			life := res.Lifetime
			if c.f.MaxSession > 0 && (life == 0 || life > c.f.MaxSession) {
				life = c.f.MaxSession
			}
			resp.SessionLifetimeMillis = life.Milliseconds()
			c.expiry = time.Time{}
			if life > 0 {
				c.expiry = time.Now().Add(life)
			}
			c.f.mu.Lock()
			c.f.auths = append(c.f.auths, Auth{Principal: res.Principal, Reauth: c.authed, Lifetime: life, Extensions: res.Extensions, Expiry: res.Expiry, At: time.Now()})
			c.f.mu.Unlock()
			c.authed = true
		}
		return c.respond(h, resp)
	}
	return fmt.Errorf("unexpected request key %d", h.key)
}
