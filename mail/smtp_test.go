package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/mail/mailtest"
	"portier/models"
)

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	c, err := ParseSMTPURL("smtp://mailer:p%40ss%3Aw0rd@mail.example.com?from=portier@example.com")
	require.NoError(t, err)
	assert.Equal(t, SMTPConfig{Host: "mail.example.com", Port: 587, Username: "mailer", Password: "p@ss:w0rd",
		From: "portier@example.com", Timeout: 30 * time.Second}, c)
	assert.NotContains(t, c.String(), "p@ss")

	c, err = ParseSMTPURL("smtps://mail.example.com?from=portier@example.com")
	require.NoError(t, err)
	assert.True(t, c.Implicit)
	assert.Equal(t, 465, c.Port)

	c, err = ParseSMTPURL("smtp://localhost:25?from=portier@example.com&tls=none")
	require.NoError(t, err)
	assert.True(t, c.NoTLS)
	assert.Equal(t, 25, c.Port)

	for _, bad := range []string{
		"http://u:secretpw@host?from=a@example.com",
		"smtp://u:secretpw@?from=a@example.com",
		"smtp://u:secretpw@host:99999?from=a@example.com",
		"smtp://u:secretpw@host:abc?from=a@example.com",
		"smtp://u:secretpw@host",
		"smtp://u:secretpw@host?from=not-an-address",
		"smtp://u:secretpw@host?from=a@example.com&tls=maybe",
		"smtps://u:secretpw@host?from=a@example.com&tls=none",
		"::secretpw",
	} {
		_, err := ParseSMTPURL(bad)
		if assert.Error(t, err, bad) {
			assert.NotContains(t, err.Error(), "secretpw", "the password leaks into the error of %q", bad)
			assert.NotContains(t, err.Error(), "\n")
		}
	}
}

func senderFor(t *testing.T, s *mailtest.Server, scheme, user string) SMTPSender {
	t.Helper()
	raw := scheme + "://" + user + s.Addr + "?from=portier@example.com"
	c, err := ParseSMTPURL(raw)
	require.NoError(t, err)
	c.TLSConfig = &tls.Config{RootCAs: s.CertPool, ServerName: "127.0.0.1"}
	c.Timeout = 5 * time.Second
	return SMTPSender{Config: c}
}

var germanMail = models.OutboxMessage{
	To: "anna@example.com", Subject: "Portier-Passwort zurücksetzen",
	Text: "Hallo Anna,\n\nÖffnen Sie diesen Link: http://127.0.0.1:8080/password/reset/abc\n",
	HTML: "<p>Hallo Anna,</p><p><a href=\"http://127.0.0.1:8080/password/reset/abc\">Neues Passwort wählen</a></p>",
}

func TestSMTPSendsMultipartOverSTARTTLSWithAuth(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, false, true)
	require.NoError(t, senderFor(t, srv, "smtp", "mailer:p%40ss%3Aw0rd@").Send(context.Background(), germanMail))

	require.Len(t, srv.Received(), 1)
	got := srv.Received()[0]
	assert.Equal(t, "mailer", got.User)
	assert.Equal(t, "portier@example.com", got.From)
	assert.Equal(t, "anna@example.com", got.To)
	checkMessage(t, got.Data)
}

func TestSMTPSendsOverImplicitTLS(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, true, true)
	require.NoError(t, senderFor(t, srv, "smtps", "mailer:p%40ss%3Aw0rd@").Send(context.Background(), germanMail))
	require.Len(t, srv.Received(), 1)
	checkMessage(t, srv.Received()[0].Data)
}

// checkMessage parses the received message like a mail client: headers, the UTF-8 subject,
// and a multipart/alternative body with the text and the HTML part.
func checkMessage(t *testing.T, data []byte) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, germanMail.Subject, subject)
	assert.Contains(t, msg.Header.Get("From"), "portier@example.com")
	assert.Contains(t, msg.Header.Get("To"), "anna@example.com")
	assert.NotEmpty(t, msg.Header.Get("Date"))
	assert.NotEmpty(t, msg.Header.Get("Message-Id"))

	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mediaType)
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		body, err := io.ReadAll(decodeTransfer(p))
		require.NoError(t, err)
		parts[ct] = strings.ReplaceAll(string(body), "\r\n", "\n")
	}
	assert.Equal(t, germanMail.Text, parts["text/plain"])
	assert.Equal(t, germanMail.HTML, strings.TrimRight(parts["text/html"], "\n"))
}

// decodeTransfer undoes the part's Content-Transfer-Encoding (multipart.Reader already does
// quoted-printable; base64 is left to us).
func decodeTransfer(p *multipart.Part) io.Reader {
	if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
		return base64Reader(p)
	}
	return p
}

func TestSMTPErrorsAreClassified(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// A refused recipient (550) will never work: permanent.
	srv := mailtest.Start(t, false, true)
	srv.RcptCode = 550
	err := senderFor(t, srv, "smtp", "mailer:p%40ss%3Aw0rd@").Send(ctx, germanMail)
	require.Error(t, err)
	assert.True(t, errors.As(err, new(PermanentError)), "550 is permanent: %v", err)

	// A temporary refusal (451) is retried.
	srv.RcptCode = 451
	err = senderFor(t, srv, "smtp", "mailer:p%40ss%3Aw0rd@").Send(ctx, germanMail)
	require.Error(t, err)
	assert.False(t, errors.As(err, new(PermanentError)), "451 is temporary: %v", err)

	// Wrong credentials: the operator can fix the configuration, so the message waits.
	srv.RcptCode = 0
	err = senderFor(t, srv, "smtp", "mailer:wrong@").Send(ctx, germanMail)
	require.Error(t, err)
	assert.False(t, errors.As(err, new(PermanentError)), "an auth failure is retried: %v", err)
	assert.NotContains(t, err.Error(), "wrong", "the password is not in the error")

	// Nobody listening: retried.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c, err := ParseSMTPURL("smtp://127.0.0.1:" + strconv.Itoa(port) + "?from=portier@example.com")
	require.NoError(t, err)
	c.Timeout = 2 * time.Second
	err = SMTPSender{Config: c}.Send(ctx, germanMail)
	require.Error(t, err)
	assert.False(t, errors.As(err, new(PermanentError)))

	assert.Empty(t, srv.Received(), "nothing was delivered in any of these cases")
}

// smtp:// requires STARTTLS: a server without it gets nothing, not a plain-text fallback; with
// tls=none (a local relay) the same server is used on purpose.
func TestSMTPNeverFallsBackToPlainText(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, false, false)
	err := senderFor(t, srv, "smtp", "mailer:p%40ss%3Aw0rd@").Send(context.Background(), germanMail)
	require.Error(t, err)
	assert.Empty(t, srv.Received())

	c, err := ParseSMTPURL("smtp://" + srv.Addr + "?from=portier@example.com&tls=none")
	require.NoError(t, err)
	require.NoError(t, SMTPSender{Config: c}.Send(context.Background(), germanMail))
	require.Len(t, srv.Received(), 1)
}

func base64Reader(r io.Reader) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, r)
}
