package main

// Tests of the real binary: built once per test run with `go build`, started as a child
// process on loopback ports, driven over HTTP and with the admin subcommands, stopped with
// SIGTERM.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/auth"
	"portier/db"
	"portier/handlers/api"
	"portier/mail/mailtest"
	"portier/models"
)

// failAfter bounds every wait on the child process. It is a failure bound only: the tests
// never assert how fast anything is.
const failAfter = 20 * time.Second

var (
	pkgDir    string // this package's directory: the working directory the test starts in
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	// The environment of whoever runs the tests must not change what the flags mean; unset
	// here once, the tests need no t.Setenv of their own and can run in parallel.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "PORTIER_") {
			os.Unsetenv(name)
		}
	}
	var err error
	if pkgDir, err = os.Getwd(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// goTool finds the go command: on PATH, else the usual install location, else GOROOT.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/local/go/bin/go", filepath.Join(os.Getenv("GOROOT"), "bin", "go")} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("the go command is neither on PATH nor in /usr/local/go/bin")
}

// portierBinary builds this package into a temporary directory once per test run.
func portierBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goCmd, err := goTool()
		if err != nil {
			buildErr = err
			return
		}
		buildDir, buildErr = os.MkdirTemp("", "portier-test-bin-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "portier")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goCmd, "build", "-o", buildBin, ".")
		cmd.Dir = pkgDir
		cmd.WaitDelay = 10 * time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// childEnv is the test's environment without PORTIER_* variables.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTIER_") {
			env = append(env, kv)
		}
	}
	return env
}

// runBinary runs the built binary to completion with stdin as standard input.
func runBinary(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	bin := portierBinary(t) // built once, before the clock starts: a build under load is slow
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv()
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("portier %s: %v", strings.Join(args, " "), err)
	}
	require.NoError(t, ctx.Err(), "portier %s did not finish", strings.Join(args, " "))
	return runResult{code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errOut.String()}
}

// mustRunBinary fails the test unless the binary exits 0.
func mustRunBinary(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	r := runBinary(t, stdin, args...)
	require.Equalf(t, 0, r.code, "portier %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	return r
}

// syncBuffer collects a child's output; safe to read while the child writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// server is a running `portier serve` child process.
type server struct {
	t        *testing.T
	cmd      *exec.Cmd
	addr     string
	apiAddr  string
	dataDir  string
	stdout   *syncBuffer
	stderr   *syncBuffer
	done     chan struct{} // closed when the process has exited
	exitCode int
}

// startServe starts `portier serve` on a free loopback port (and a second one for the API
// listener when withAPI) and waits until /healthz answers 200.
func startServe(t *testing.T, dataDir string, withAPI bool, extraArgs ...string) *server {
	t.Helper()
	s := &server{t: t, addr: freeAddr(t), dataDir: dataDir, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	args := []string{"serve", "--addr", s.addr, "--data-dir", dataDir}
	if withAPI {
		s.apiAddr = freeAddr(t)
		args = append(args, "--api-addr", s.apiAddr)
	}
	args = append(args, extraArgs...)
	s.cmd = exec.Command(portierBinary(t), args...)
	s.cmd.Env = childEnv()
	s.cmd.WaitDelay = 5 * time.Second
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	require.NoError(t, s.cmd.Start())
	go func() {
		_ = s.cmd.Wait() // the exit status is what the tests look at
		s.exitCode = s.cmd.ProcessState.ExitCode()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("portier serve stdout:\n%s\nstderr:\n%s", s.stdout, s.stderr)
		}
	})
	s.waitHealthy()
	return s
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// waitHealthy polls GET /healthz until it answers 200.
func (s *server) waitHealthy() {
	s.t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(failAfter)
	for {
		select {
		case <-s.done:
			s.t.Fatalf("portier serve exited early (status %d)\nstderr:\n%s", s.exitCode, s.stderr)
		default:
		}
		res, err := client.Get(s.url("/healthz"))
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				assert.JSONEq(s.t, `{"status":"ok","database":"ok"}`, string(body))
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("GET /healthz did not answer 200 within %s (last error %v)\nstderr:\n%s", failAfter, err, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the process to exit; it returns the exit status.
func (s *server) stop() int {
	s.t.Helper()
	require.NoError(s.t, s.cmd.Process.Signal(syscall.SIGTERM))
	return s.wait()
}

// wait waits for the process to exit and returns its exit status.
func (s *server) wait() int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(failAfter):
		s.t.Fatalf("portier serve did not exit within %s after SIGTERM\nstderr:\n%s", failAfter, s.stderr)
	}
	return s.exitCode
}

// waitOutput waits until the child has written substr to out (its stdout or stderr buffer).
func (s *server) waitOutput(out *syncBuffer, substr string) {
	s.t.Helper()
	deadline := time.Now().Add(failAfter)
	for !strings.Contains(out.String(), substr) {
		if time.Now().After(deadline) {
			s.t.Fatalf("portier serve did not write %q within %s\nstdout:\n%s\nstderr:\n%s", substr, failAfter, s.stdout, s.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// createAccountAndToken uses the binary to create an account and an API token with the
// account scope, and returns the token.
func createAccountAndToken(t *testing.T, dataDir, email string) string {
	t.Helper()
	mustRunBinary(t, testPassword+"\n", "accounts", "create", "--data-dir", dataDir, "--email", email, "--name", "Anna Berger")
	r := mustRunBinary(t, "", "tokens", "create", "--data-dir", dataDir, "--email", email, "--scopes", "account", "--expires", "90d")
	return lastLineToken(t, r.stdout)
}

func TestServeRunsWithAdminCommandsAndBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := filepath.Join(t.TempDir(), "data") // serve creates it
	s := startServe(t, dataDir, false)
	s.waitOutput(s.stdout, "Portier is running at http://"+s.addr)

	// The data directory and the secrets file are private.
	st, err := os.Stat(dataDir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "data directory mode")
	st, err = os.Stat(filepath.Join(dataDir, auth.SecretsFileName))
	require.NoError(t, err, "serve writes the secrets file into the data directory")
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "secrets file mode")
	secrets, err := auth.LoadOrCreateSecrets(dataDir)
	require.NoError(t, err, "the secrets file is valid")
	_, err = secrets.EncryptionKeyBytes()
	require.NoError(t, err)

	// Admin commands work against the database the server has open.
	token := createAccountAndToken(t, dataDir, "anna@example.com")
	code, acc, _ := getAccount(t, s.url("/api/account"), token)
	require.Equal(t, http.StatusOK, code, "a token created by the CLI works on the running server")
	assert.Equal(t, "anna@example.com", acc.Email)
	code, _, _ = getAccount(t, s.url("/api/account"), strings.Repeat("ab", 32))
	assert.Equal(t, http.StatusUnauthorized, code)

	// Online backup while the server runs.
	backup := filepath.Join(t.TempDir(), "portier-backup.db")
	r := mustRunBinary(t, "", "backup", backup, "--data-dir", dataDir)
	assert.Contains(t, r.stdout, backup)
	require.NoError(t, db.CheckIntegrity(ctx, backup))
	sum := fileSum(t, backup)
	bst, err := os.Stat(backup)
	require.NoError(t, err)
	// The data directory, the database, its -wal and -shm and the backup are the owner's only.
	assert.Equal(t, os.FileMode(0o600), bst.Mode().Perm(), "backup mode")
	dst, err := os.Stat(dataDir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dst.Mode().Perm(), "data directory mode")
	for _, name := range []string{db.FileName, db.FileName + "-wal", db.FileName + "-shm"} {
		st, err := os.Stat(filepath.Join(dataDir, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), name)
	}

	// The server still works after the backup, and writes made after it are not in it.
	mustRunBinary(t, "a different passphrase\n", "accounts", "create", "--data-dir", dataDir, "--email", "ben@example.com", "--name", "Ben")
	code, _, _ = getAccount(t, s.url("/api/account"), token)
	assert.Equal(t, http.StatusOK, code)

	// A second backup to the same file is refused and leaves the file alone.
	r = runBinary(t, "", "backup", "--data-dir", dataDir, backup)
	assert.NotEqual(t, 0, r.code)
	oneLine(t, r.stderr)
	assert.Contains(t, r.stderr, "already exists")
	assert.Equal(t, sum, fileSum(t, backup), "the existing backup is not overwritten")
	bst2, err := os.Stat(backup)
	require.NoError(t, err)
	assert.Equal(t, bst.ModTime(), bst2.ModTime())
	leftovers, err := filepath.Glob(filepath.Join(filepath.Dir(backup), ".*.tmp"))
	require.NoError(t, err)
	assert.Empty(t, leftovers, "no temporary file is left next to the backup")

	// A backup of a data directory without a database is refused.
	r = runBinary(t, "", "backup", filepath.Join(t.TempDir(), "x.db"), "--data-dir", filepath.Join(t.TempDir(), "empty"))
	assert.Equal(t, 1, r.code)
	oneLine(t, r.stderr)
	assert.Contains(t, r.stderr, "no database")

	require.Equal(t, 0, s.stop(), "exit status after SIGTERM; stderr:\n%s", s.stderr)
	assert.Contains(t, s.stderr.String(), "stopped; database closed")

	// The backup holds what existed when it was taken.
	bstore := openStoreFile(t, backup)
	login, _, err := bstore.FindLoginByEmail(ctx, "anna@example.com")
	require.NoError(t, err)
	tok, err := bstore.FindAPITokenByHash(ctx, auth.HashToken(token))
	require.NoError(t, err)
	assert.Equal(t, login.ID, tok.LoginID)
	_, _, err = bstore.FindLoginByEmail(ctx, "ben@example.com")
	assert.ErrorIs(t, err, models.ErrNotFound)

	// The live database is intact after the shutdown and holds everything.
	path := filepath.Join(dataDir, db.FileName)
	require.NoError(t, db.CheckIntegrity(ctx, path))
	store := openStoreFile(t, path)
	for _, email := range []string{"anna@example.com", "ben@example.com"} {
		_, _, err := store.FindLoginByEmail(ctx, email)
		require.NoError(t, err, email)
	}
	tok, err = store.FindAPITokenByHash(ctx, auth.HashToken(token))
	require.NoError(t, err)
	assert.NotNil(t, tok.LastUsedAt, "the API request was recorded")
}

func TestServeAPIAddr(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	s := startServe(t, dataDir, true)
	s.waitOutput(s.stdout, "The web API also listens at http://"+s.apiAddr+"/")
	token := createAccountAndToken(t, dataDir, "anna@example.com")
	login := findLogin(t, dataDir, "anna@example.com")

	apiURL := "http://" + s.apiAddr
	for _, u := range []string{apiURL + "/account", apiURL + "//account", s.url("/api/account"), s.url("//api//account")} {
		code, acc, res := getAccount(t, u, token)
		require.Equal(t, http.StatusOK, code, "GET %s", u)
		assert.Empty(t, res.Header.Get("Location"), "GET %s: no redirect", u)
		assert.Contains(t, res.Header.Get("Content-Type"), "application/json")
		assert.Equal(t, api.MyAccount{AccountID: login.ID, Type: 0, Email: "anna@example.com", Name: "Anna Berger",
			Language: acc.Language, CreationDate: acc.CreationDate, UpdateDate: acc.UpdateDate}, acc)
		_, err := time.Parse("2006-01-02T15:04:05.000Z", acc.CreationDate)
		assert.NoError(t, err)
	}

	// The API listener requires a token, answers with the Nuki error body and serves only the API.
	res, err := http.Get(apiURL + "/account")
	require.NoError(t, err)
	var apiErr api.Error
	require.NoError(t, json.NewDecoder(res.Body).Decode(&apiErr))
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.NotEmpty(t, apiErr.DetailMessage)
	for _, path := range []string{"/api/account", "/login", "/"} {
		code, _, _ := getAccount(t, apiURL+path, token)
		assert.Equal(t, http.StatusNotFound, code, "GET %s on the API listener", path)
	}

	require.Equal(t, 0, s.stop(), "stderr:\n%s", s.stderr)
	for _, addr := range []string{s.addr, s.apiAddr} {
		_, err := net.DialTimeout("tcp", addr, time.Second)
		assert.Error(t, err, "%s is closed after shutdown", addr)
	}
}

// TestServeBodyLimit: both listeners answer a body over the limit with 413 and the API's JSON
// error, whether Content-Length announces it or it streams in chunks, and the server stops
// reading at the limit instead of decoding the whole body (the API listener once decoded a
// 1 GB list whole). Both listeners log the request.
func TestServeBodyLimit(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	s := startServe(t, dataDir, true)
	s.waitOutput(s.stdout, "The web API also listens at")
	mustRunBinary(t, testPassword+"\n", "accounts", "create", "--data-dir", dataDir, "--email", "anna@example.com", "--name", "Anna")
	token := lastLineToken(t, mustRunBinary(t, "", "tokens", "create", "--data-dir", dataDir,
		"--email", "anna@example.com", "--scopes", "smartlock.auth").stdout)

	const streamed = 128 << 20 // far over the 1 MB limit
	for _, target := range []struct{ addr, path string }{{s.apiAddr, "/smartlock/auth"}, {s.addr, "/api/smartlock/auth"}} {
		for _, chunked := range []bool{false, true} {
			size := int64(2 << 20)
			if chunked {
				size = streamed
			}
			status, apiErr, sent := deleteWithBody(t, target.addr, target.path, token, size, chunked)
			assert.Equal(t, http.StatusRequestEntityTooLarge, status, "%s%s chunked=%v", target.addr, target.path, chunked)
			assert.Contains(t, apiErr.DetailMessage, "1 MB", "%s%s chunked=%v", target.addr, target.path, chunked)
			if chunked {
				// The limit plus what the sockets buffer, never the whole body.
				assert.Less(t, sent, int64(streamed/4), "%s%s: the server stopped reading at the limit", target.addr, target.path)
			}
		}
	}
	s.waitOutput(s.stderr, "route=/smartlock/auth status=413")
	s.waitOutput(s.stderr, "route=/api/smartlock/auth status=413")
	require.Equal(t, 0, s.stop(), "stderr:\n%s", s.stderr)
}

// deleteWithBody sends DELETE path to addr with a JSON body of size bytes (an unfinished list
// of one long string), announced by Content-Length or streamed in chunks, reads the answer and
// returns its status, its API error and how many body bytes went out before the answer.
func deleteWithBody(t *testing.T, addr, path, token string, size int64, chunked bool) (int, api.Error, int64) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(2*failAfter)))
	framing := fmt.Sprintf("Content-Length: %d", size)
	if chunked {
		framing = "Transfer-Encoding: chunked"
	}
	_, err = fmt.Fprintf(conn, "DELETE %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n%s\r\n\r\n",
		path, addr, token, framing)
	require.NoError(t, err)

	sentc := make(chan int64, 1)
	go func() {
		first := bytes.Repeat([]byte("a"), 64<<10)
		copy(first, `["`)
		rest := bytes.Repeat([]byte("a"), 64<<10)
		var sent int64
		for chunk := first; sent < size; chunk = rest {
			var err error
			if chunked {
				_, err = fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
			} else {
				_, err = conn.Write(chunk[:min(int64(len(chunk)), size-sent)])
			}
			if err != nil {
				break
			}
			sent += int64(len(chunk))
		}
		sentc <- sent
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	var apiErr api.Error
	assert.Contains(t, res.Header.Get("Content-Type"), "application/json")
	assert.NoError(t, json.NewDecoder(res.Body).Decode(&apiErr))
	conn.Close() // ends the writer if the server has not closed the connection yet
	return res.StatusCode, apiErr, <-sentc
}

// findLogin opens the database in dataDir, finds the login and closes the database again, so
// that no connection of the test keeps it open.
func findLogin(t *testing.T, dataDir, email string) models.Login {
	t.Helper()
	database, err := db.Open(filepath.Join(dataDir, db.FileName))
	require.NoError(t, err)
	defer database.Close()
	login, _, err := db.NewStore(database, time.Now).FindLoginByEmail(context.Background(), email)
	require.NoError(t, err)
	return login
}

// TestServeSIGTERMFinishesRequestInFlight starts a sign-in whose body is still on its way when
// SIGTERM arrives: the server stops accepting connections but finishes that request (and
// its database writes) before it exits with status 0.
func TestServeSIGTERMFinishesRequestInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := t.TempDir()
	s := startServe(t, dataDir, false)
	mustRunBinary(t, testPassword+"\n", "accounts", "create", "--data-dir", dataDir, "--email", "anna@example.com", "--name", "Anna")

	conn, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(2*failAfter)))
	body := url.Values{"email": {"anna@example.com"}, "password": {testPassword}}.Encode()
	req, err := http.NewRequest(http.MethodPost, s.url("/login"), nil)
	require.NoError(t, err)
	// The headers go out now; "Expect: 100-continue" makes the server say when the handler
	// starts reading the body, so the request is provably being handled before the signal.
	_, err = fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: %d\r\nSec-Fetch-Site: same-origin\r\nExpect: 100-continue\r\n\r\n", s.addr, len(body))
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	cont, err := http.ReadResponse(br, req)
	require.NoError(t, err)
	require.Equal(t, http.StatusContinue, cont.StatusCode)

	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	s.waitOutput(s.stderr, "shutting down")
	// New connections are refused from now on, while the process waits for our request.
	deadline := time.Now().Add(failAfter)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		require.False(t, time.Now().After(deadline), "the listener stays open after SIGTERM")
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-s.done:
		t.Fatalf("portier exited (status %d) before the request in flight was finished\nstderr:\n%s", s.exitCode, s.stderr)
	default:
	}

	_, err = io.WriteString(conn, body)
	require.NoError(t, err)
	res, err := http.ReadResponse(br, req)
	require.NoError(t, err, "the request in flight gets its response")
	_, err = io.ReadAll(res.Body)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "the sign-in succeeded")
	assert.Equal(t, "/", res.Header.Get("Location"))
	assert.NotEmpty(t, res.Cookies(), "a session cookie is set")

	require.Equal(t, 0, s.wait(), "exit status after SIGTERM; stderr:\n%s", s.stderr)
	assert.Contains(t, s.stderr.String(), "stopped; database closed")

	// What the request wrote is in the database, which is intact.
	path := filepath.Join(dataDir, db.FileName)
	require.NoError(t, db.CheckIntegrity(ctx, path))
	store := openStoreFile(t, path)
	login, _, err := store.FindLoginByEmail(ctx, "anna@example.com")
	require.NoError(t, err)
	assert.NotNil(t, login.LastLoginAt, "the sign-in during shutdown was committed")
	entries, err := store.FindAuditEntries(ctx, db.AuditFilter{AccountID: login.AccountID})
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	assert.Equal(t, models.AuditLoginSuccess, entries[0].Kind, "newest audit entry")
}

func TestServeAddressInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	r := runBinary(t, "", "serve", "--addr", ln.Addr().String(), "--data-dir", t.TempDir())
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "listen on "+ln.Addr().String())
}

// With --smtp-url the server delivers its emails through SMTP: a person asks for a password
// reset and the message arrives at a real SMTP server on loopback.
func TestServeDeliversEmailThroughSMTP(t *testing.T) {
	t.Parallel()
	relay := mailtest.Start(t, false, false)
	dataDir := t.TempDir()
	s := startServe(t, dataDir, false, "--smtp-url", "smtp://"+relay.Addr+"?from=portier@example.com&tls=none")
	createAccount(t, dataDir, "anna@example.com", "Anna Berger")

	res, err := http.PostForm(s.url("/password/forgot"), url.Values{"email": {"anna@example.com"}})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	deadline := time.Now().Add(failAfter)
	for len(relay.Received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := relay.Received()
	require.Len(t, got, 1, "stderr:\n%s", s.stderr)
	assert.Equal(t, "portier@example.com", got[0].From)
	assert.Equal(t, "anna@example.com", got[0].To)
	assert.Contains(t, string(got[0].Data), "Subject: Reset your Portier password")
	assert.Contains(t, string(got[0].Data), "multipart/alternative")
	assert.Contains(t, s.stderr.String(), "emails are delivered through SMTP")
	require.Equal(t, 0, s.stop())

	// The outbox row is marked sent.
	mails, err := openTestStore(t, dataDir).FindMailTo(context.Background(), "anna@example.com")
	require.NoError(t, err)
	require.Len(t, mails, 1)
	assert.Equal(t, "sent", mails[0].Status)
}

// `serve --demo` makes an account with simulated devices whose people can be tried at once:
// those the devices bring (one of them written two ways), and people made in Portier with
// permissions the devices took and an invitation in the outbox; and weeks of their activity.
func TestServeDemo(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	s := startServe(t, dataDir, false, "--demo")
	assert.Contains(t, s.stdout.String(), "Demo account created with")
	store := openTestStore(t, dataDir)
	ctx := context.Background()
	var dora models.AccountUser
	var account int64
	require.Eventually(t, func() bool {
		users, err := store.FindActiveUsers(ctx, 1)
		require.NoError(t, err)
		for _, u := range users {
			if u.Name == "Dora Eck" {
				dora, account = u, u.AccountID
			}
		}
		return dora.ID != 0
	}, failAfter, 20*time.Millisecond)
	dupes, err := store.CountDuplicates(ctx, account)
	require.NoError(t, err)
	assert.Positive(t, dupes, "duplicate suggestions to try")
	require.Eventually(t, func() bool {
		auths, err := store.FindUserAuthorizations(ctx, account, dora.ID)
		require.NoError(t, err)
		applied := 0
		for _, a := range auths {
			if a.PushStatus == models.PushApplied {
				applied++
			}
		}
		return applied == 2
	}, failAfter, 20*time.Millisecond, "Dora's permissions reached both devices")
	mails, err := store.FindMailTo(ctx, "dora@portier.example")
	require.NoError(t, err)
	require.Len(t, mails, 1)
	assert.Contains(t, mails[0].Text, "/invite/", "an invitation link to follow from the outbox")
	mails, err = store.FindMailTo(ctx, demoAnyHourEmail)
	require.NoError(t, err)
	require.Len(t, mails, 1, "the web key that works at any hour can be tried too")
	assert.Contains(t, mails[0].Text, "/invite/")
	assert.Contains(t, s.stdout.String(), demoAnyHourName+"'s opens at any hour", "the first start says which invitation to follow")

	// Weeks of history, Dora's found by the person filter.
	now := time.Now()
	old, err := store.FindLogEntries(ctx, models.LogFilter{AccountID: account, To: ptr(now.Add(-21 * 24 * time.Hour))})
	require.NoError(t, err)
	assert.NotEmpty(t, old.Entries, "history of several weeks")
	recent, err := store.FindLogEntries(ctx, models.LogFilter{AccountID: account, From: ptr(now.Add(-7 * 24 * time.Hour))})
	require.NoError(t, err)
	assert.NotEmpty(t, recent.Entries, "up to the last days")
	doras, err := store.FindLogEntries(ctx, models.LogFilter{AccountID: account, UserID: dora.ID, Limit: 100})
	require.NoError(t, err)
	require.NotEmpty(t, doras.Entries)
	for _, e := range doras.Entries {
		assert.Equal(t, "Dora Eck", e.Name)
		require.NotNil(t, e.UserID)
		assert.Equal(t, dora.ID, *e.UserID)
	}
	require.Equal(t, 0, s.stop())

	// `make demo` a second time: the password is not printed again, so the output says how to
	// get in without it or start over.
	again := startServe(t, dataDir, false, "--demo")
	out := again.stdout.String()
	assert.NotContains(t, out, "Demo account created")
	assert.Contains(t, out, demoEmail)
	assert.Contains(t, out, "Forgot your password?")
	assert.Contains(t, out, "rm -rf "+dataDir)
	require.Equal(t, 0, again.stop())
}

func ptr[T any](v T) *T { return &v }
