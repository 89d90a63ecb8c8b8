package mail

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scriptedSMTP answers each command with what reply returns ("END" stands for the end of
// DATA); close ends the connection after that reply.
func scriptedSMTP(t *testing.T, reply func(cmd string) (answer string, close bool)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				_, _ = c.Write([]byte("220 scripted\r\n"))
				inData := false
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.TrimSpace(line))
					if inData {
						if line != ".\r\n" {
							continue
						}
						inData, cmd = false, "END"
					}
					ans, closeAfter := reply(cmd)
					_, _ = c.Write([]byte(ans + "\r\n"))
					inData = strings.HasPrefix(cmd, "DATA") && strings.HasPrefix(ans, "354")
					if closeAfter {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func plainReply(cmd string) (string, bool) {
	switch {
	case strings.HasPrefix(cmd, "EHLO"):
		return "250 scripted", false
	case strings.HasPrefix(cmd, "DATA"):
		return "354 go ahead", false
	case strings.HasPrefix(cmd, "QUIT"):
		return "221 bye", true
	}
	return "250 ok", false
}

func sendTo(ctx context.Context, t *testing.T, addr string) error {
	t.Helper()
	c, err := ParseSMTPURL("smtp://" + addr + "?from=portier@example.com&tls=none")
	require.NoError(t, err)
	c.Timeout = 5 * time.Second
	return SMTPSender{Config: c}.Send(ctx, germanMail)
}

// Once the server has accepted the message, a failure afterwards (RSET, QUIT, a dropped
// connection) is not a failed delivery: a retry would send the email twice.
func TestSMTPAcceptedMessageIsSentEvenIfTheSessionEndsBadly(t *testing.T) {
	t.Parallel()
	dropped := scriptedSMTP(t, func(cmd string) (string, bool) {
		if cmd == "END" {
			return "250 queued", true
		}
		return plainReply(cmd)
	})
	assert.NoError(t, sendTo(context.Background(), t, dropped))

	noRset := scriptedSMTP(t, func(cmd string) (string, bool) {
		if strings.HasPrefix(cmd, "RSET") {
			return "502 no RSET here", false
		}
		return plainReply(cmd)
	})
	assert.NoError(t, sendTo(context.Background(), t, noRset))
}

// A 5xx to MAIL FROM (sender not allowed) is about the configuration, not this message: it is
// retried so that the outbox goes out once the operator fixes --smtp-url.
func TestSMTPRefusedSenderIsRetried(t *testing.T) {
	t.Parallel()
	addr := scriptedSMTP(t, func(cmd string) (string, bool) {
		if strings.HasPrefix(cmd, "MAIL") {
			return "553 5.7.1 sender not owned by user", false
		}
		return plainReply(cmd)
	})
	err := sendTo(context.Background(), t, addr)
	require.Error(t, err)
	assert.False(t, errors.As(err, new(PermanentError)), "%v", err)

	content := scriptedSMTP(t, func(cmd string) (string, bool) {
		if cmd == "END" {
			return "554 5.6.0 message content rejected", false
		}
		return plainReply(cmd)
	})
	err = sendTo(context.Background(), t, content)
	require.Error(t, err)
	assert.True(t, errors.As(err, new(PermanentError)), "a 554 to the content is final: %v", err)
}

// Cancelling the context (server shutdown) ends a session with a server that stopped answering
// at once, not after the timeout.
func TestSMTPZeroTimeoutMeansDefault(t *testing.T) {
	t.Parallel()
	addr := scriptedSMTP(t, plainReply)
	host, port, _ := net.SplitHostPort(addr)
	c, err := ParseSMTPURL("smtp://" + net.JoinHostPort(host, port) + "?from=portier@example.com&tls=none")
	require.NoError(t, err)
	c.Timeout = 0
	assert.NoError(t, SMTPSender{Config: c}.Send(context.Background(), germanMail))
}
