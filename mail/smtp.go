package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"

	"portier/models"
)

// SMTPConfig is where and how emails are delivered, parsed from --smtp-url:
//
//	smtp://user:pass@host:587?from=portier@example.com   STARTTLS, required (default port 587)
//	smtp://host:25?from=…&tls=none                       no TLS at all (a relay on the same host)
//	smtps://user:pass@host:465?from=…                    TLS from the first byte (default port 465)
//
// User and password are optional and percent-decoded (a password may contain "@" or ":" as
// %40 and %3A). from is required.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	Implicit bool // smtps: TLS from the start
	NoTLS    bool // tls=none: plain text (only for a local relay)
	// TLSConfig, when set, replaces the default (tests trust their own certificate with it).
	TLSConfig *tls.Config
	Timeout   time.Duration
}

// ParseSMTPURL reads an --smtp-url. Its errors never contain the password.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPConfig{}, errors.New("smtp url: cannot be read; use smtp://user:pass@host:587?from=portier@example.com")
	}
	var c SMTPConfig
	switch u.Scheme {
	case "smtp":
		c.Port = 587
	case "smtps":
		c.Port, c.Implicit = 465, true
	default:
		return SMTPConfig{}, fmt.Errorf("smtp url: scheme must be smtp or smtps, not %q", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return SMTPConfig{}, errors.New("smtp url: the host is missing")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, fmt.Errorf("smtp url: port %q is not a port number", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	c.From = q.Get("from")
	if c.From == "" {
		return SMTPConfig{}, errors.New("smtp url: add ?from=address, the sender of Portier's emails")
	}
	if a, err := netmail.ParseAddress(c.From); err != nil || a.Address != c.From {
		return SMTPConfig{}, fmt.Errorf("smtp url: from=%q is not a plain email address", c.From)
	}
	switch q.Get("tls") {
	case "", "starttls":
	case "none":
		if c.Implicit {
			return SMTPConfig{}, errors.New("smtp url: smtps always uses TLS; drop tls=none or use smtp://")
		}
		c.NoTLS = true
	default:
		return SMTPConfig{}, fmt.Errorf("smtp url: tls must be starttls or none, not %q", q.Get("tls"))
	}
	c.Timeout = 30 * time.Second
	return c, nil
}

// String describes the configuration for the log, without the password.
func (c SMTPConfig) String() string {
	mode := "STARTTLS"
	switch {
	case c.Implicit:
		mode = "TLS"
	case c.NoTLS:
		mode = "no TLS"
	}
	user := ""
	if c.Username != "" {
		user = c.Username + "@"
	}
	return fmt.Sprintf("%s%s:%d (%s, from %s)", user, c.Host, c.Port, mode, c.From)
}

// SMTPSender delivers outbox messages over SMTP, one connection per message.
type SMTPSender struct {
	Config SMTPConfig
}

// Send delivers m as multipart/alternative (text and HTML). A permanent (5xx) refusal is a
// PermanentError; network trouble and temporary (4xx) answers are retried by the worker.
func (s SMTPSender) Send(ctx context.Context, m models.OutboxMessage) error {
	c := s.Config
	msg := gomail.NewMsg()
	if err := msg.From(c.From); err != nil {
		return PermanentError{Err: fmt.Errorf("sender %q: %w", c.From, err)}
	}
	if err := msg.To(m.To); err != nil {
		return PermanentError{Err: fmt.Errorf("recipient %q: %w", m.To, err)}
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}

	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(c.Port), gomail.WithTimeout(timeout)}
	switch {
	case c.Implicit:
		opts = append(opts, gomail.WithSSL())
	case c.NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if c.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(c.TLSConfig))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	client, err := gomail.NewClient(c.Host, opts...)
	if err != nil {
		return err
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil || msg.IsDelivered() {
		// The server took the message; what failed came after (RSET, QUIT). Retrying would
		// deliver it twice, and marking it failed would be wrong.
		return nil
	}
	// Only a 5xx answer about this message (its recipient or its content) is final. A 5xx to
	// MAIL FROM is a configuration problem: once fixed, the message can still go out.
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		switch se.Reason {
		case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
			return PermanentError{Err: err}
		}
	}
	return err
}
