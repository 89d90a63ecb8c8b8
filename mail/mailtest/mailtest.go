// Package mailtest runs a real SMTP server on loopback for tests (emersion/go-smtp), with
// STARTTLS, implicit TLS or plain text, AUTH PLAIN, and a switch to refuse recipients.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// Server is a real SMTP server on loopback (emersion/go-smtp) that keeps what it receives.
// It accepts the login "mailer" with the password "p@ss:w0rd".
type Server struct {
	// RcptCode, when set, is the answer to every RCPT (550 refuses, 451 defers).
	RcptCode int
	// Addr is host:port to connect to.
	Addr string
	// CertPool trusts the server's self-signed certificate.
	CertPool *x509.CertPool

	mu        sync.Mutex
	received  []Mail
	openRelay bool // no AUTH needed (the plain-text server)
}

// Mail is one received message.
type Mail struct {
	From, To string
	Data     []byte
	User     string
}

type session struct {
	srv       *Server
	from, to  string
	user      string
	needsAuth bool
}

func (s *Server) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{srv: s, needsAuth: !s.openRelay}, nil
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != "mailer" || pass != "p@ss:w0rd" {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.user, s.needsAuth = user, false
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.needsAuth {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if code := s.srv.RcptCode; code != 0 {
		return &smtp.SMTPError{Code: code, Message: "recipient refused by test"}
	}
	s.to = to
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.received = append(s.srv.received, Mail{From: s.from, To: s.to, Data: b, User: s.user})
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// Start serves on 127.0.0.1: with STARTTLS (implicit=false, withTLS=true), TLS from the first
// byte (implicit=true), or plain text without AUTH (withTLS=false, a local relay). It stops when
// the test ends.
func Start(t testing.TB, implicit, withTLS bool) *Server {
	t.Helper()
	cert, pool := selfSigned(t)
	ts := &Server{CertPool: pool}
	srv := smtp.NewServer(ts)
	srv.Domain = "localhost"
	if withTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	} else {
		ts.openRelay = true
	}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	var ln net.Listener
	var err error
	if implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	require.NoError(t, err)
	ts.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return ts
}

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// Received returns the messages received so far.
func (s *Server) Received() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.received...)
}
