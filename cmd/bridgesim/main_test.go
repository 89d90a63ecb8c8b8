package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/devices/nukibridge"
)

// TestMain lets the tests start this test binary as the real command (main with its signal
// handling and exit status) when BRIDGESIM_MAIN is set.
func TestMain(m *testing.M) {
	if os.Getenv("BRIDGESIM_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// startLine is the one line printed at start.
var startLine = regexp.MustCompile(`^bridgesim: Nuki Bridge API on (http://(\S+)) token (\S+) \(.*\)\n$`)

// syncBuffer is a bytes.Buffer safe for the writer in run and the reading test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the command in-process on a free port and returns host, port and token.
func start(t *testing.T, stdin io.Reader, args ...string) (string, int, string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"--addr", "127.0.0.1:0", "--speed", "0.01"}, args...), stdin, &out, &errOut)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "\n") }, 5*time.Second, time.Millisecond, "stderr: %s", errOut.String())
	m := startLine.FindStringSubmatch(out.String())
	require.NotNil(t, m, "start line: %q", out.String())
	host, port, err := net.SplitHostPort(m[2])
	require.NoError(t, err)
	p, _ := strconv.Atoi(port)
	stop := func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(5 * time.Second):
			t.Fatal("run did not return after the context ended")
			return -1
		}
	}
	t.Cleanup(func() { cancel() })
	return host, p, m[3], stop
}

func client(host string, port int, token string, mode nukibridge.TokenMode) *nukibridge.Client {
	return nukibridge.New(nukibridge.Config{Host: host, Port: port, Token: token, Mode: mode, Gap: time.Millisecond,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
}

func TestServesTheDemoBridgeUntilStopped(t *testing.T) {
	t.Parallel()
	stdin, press := io.Pipe()
	defer press.Close()
	host, port, token, stop := start(t, stdin, "--token", "s3cret")
	assert.Equal(t, "s3cret", token)
	ctx := context.Background()
	for _, mode := range []nukibridge.TokenMode{nukibridge.TokenHashed, nukibridge.TokenPlain} {
		devs, err := client(host, port, token, mode).List(ctx)
		require.NoError(t, err)
		var names []string
		for _, d := range devs {
			names = append(names, d.Name)
		}
		assert.Equal(t, []string{"Front door", "Back door", "Building entrance", "Garden gate"}, names, "the demo devices that pair with a bridge")
	}
	_, err := client(host, port, "wrong", nukibridge.TokenPlain).List(ctx)
	assert.ErrorIs(t, err, nukibridge.ErrUnauthorized)

	// A line on standard input presses the button: /auth hands out the token.
	go func() { _, _ = press.Write([]byte("\n")) }()
	got, err := client(host, port, "", nukibridge.TokenPlain).RequestToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, "s3cret", got)

	assert.Equal(t, 0, stop())
	_, err = client(host, port, token, nukibridge.TokenPlain).List(ctx)
	assert.ErrorIs(t, err, nukibridge.ErrUnreachable, "stopped")
}

func TestTokenModeFlags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host, port, token, stop := start(t, strings.NewReader(""), "--hashed-only", "--devices", "none")
	assert.Regexp(t, `^[0-9a-f]{8}$`, token, "a random token when none is given")
	devs, err := client(host, port, token, nukibridge.TokenHashed).List(ctx)
	require.NoError(t, err)
	assert.Empty(t, devs, "--devices none")
	_, err = client(host, port, token, nukibridge.TokenPlain).List(ctx)
	assert.ErrorIs(t, err, nukibridge.ErrUnauthorized, "--hashed-only refuses the plain token")
	assert.Equal(t, 0, stop())

	host, port, token, stop = start(t, strings.NewReader(""), "--plain-only")
	_, err = client(host, port, token, nukibridge.TokenPlain).List(ctx)
	require.NoError(t, err)
	_, err = client(host, port, token, nukibridge.TokenHashed).List(ctx)
	assert.ErrorIs(t, err, nukibridge.ErrUnauthorized, "--plain-only refuses the hashed token")
	assert.Equal(t, 0, stop())
}

// --clock-offset puts the bridge's clock off: the hashed token is refused, and the client can
// tell that it is the clock.
func TestClockOffsetFlag(t *testing.T) {
	t.Parallel()
	host, port, token, stop := start(t, strings.NewReader(""), "--clock-offset", "-3m12s")
	_, err := client(host, port, token, nukibridge.TokenHashed).List(context.Background())
	var skew *nukibridge.ClockSkewError
	require.ErrorAs(t, err, &skew)
	assert.InDelta(t, -(3*time.Minute + 12*time.Second).Seconds(), skew.Offset.Seconds(), 5)
	_, err = client(host, port, token, nukibridge.TokenPlain).List(context.Background())
	assert.NoError(t, err)
	assert.Equal(t, 0, stop())
}

func TestBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--speed", "0"}, {"--speed", "-1"}, {"--speed", "fast"}, {"--hashed-only", "--plain-only"}, {"--devices", "many"},
		{"--nope"}, {"serve"}, {"--addr", ""}, {"--clock-offset", "3"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
		assert.Equal(t, 2, code, "%v", args)
		assert.Empty(t, out.String(), "%v", args)
		assert.Regexp(t, `^bridgesim: [^\n]+\n$`, errOut.String(), "%v: one line", args)
	}
	var out bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"--help"}, strings.NewReader(""), &out, io.Discard))
	assert.Contains(t, out.String(), "--hashed-only")

	// The address is taken: a failure, not a usage error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var errOut bytes.Buffer
	assert.Equal(t, 1, run(context.Background(), []string{"--addr", ln.Addr().String()}, strings.NewReader(""), io.Discard, &errOut))
	assert.Regexp(t, `^bridgesim: [^\n]+\n$`, errOut.String())
}

// The real command: one line, serves, and stops with exit status 0 on SIGTERM; a bad flag exits 2.
func TestCommandStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	require.NoError(t, err)
	bad := exec.Command(exe, "--speed", "0")
	bad.Env = append(os.Environ(), "BRIDGESIM_MAIN=1")
	var errOut bytes.Buffer
	bad.Stderr = &errOut
	err = bad.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 2, exit.ExitCode())
	assert.Regexp(t, `^bridgesim: [^\n]+\n$`, errOut.String())

	cmd := exec.Command(exe, "--addr", "127.0.0.1:0", "--token", "T")
	// atexit_sleep_ms: a race-enabled binary otherwise waits a second before exiting.
	cmd.Env = append(os.Environ(), "BRIDGESIM_MAIN=1", "GORACE=atexit_sleep_ms=0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	m := startLine.FindStringSubmatch(line)
	require.NotNil(t, m, line)
	assert.Equal(t, "T", m[3])
	res, err := http.Get(m[1] + "/list?token=T")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		assert.NoError(t, err, "exit status 0")
	case <-time.After(5 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}
