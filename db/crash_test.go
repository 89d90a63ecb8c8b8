package db

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/models"
)

const crashChildEnv = "PORTIER_CRASH_CHILD"

// TestCrashChild is the child process of TestCrashKeepsEveryReportedCommit: it commits audit
// rows in a loop and prints each id once its commit has returned. It does nothing when run
// as an ordinary test.
func TestCrashChild(t *testing.T) {
	t.Parallel()
	path := os.Getenv(crashChildEnv)
	if path == "" {
		return
	}
	ctx := context.Background()
	d, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	if _, err := d.Migrate(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(3)
	}
	s := NewStore(d, time.Now)
	// The parent kills us long before this; the limit only stops an orphan.
	stop := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(stop); i++ {
		id, err := s.AddAudit(ctx, models.AuditEntry{Actor: "crash-child", Kind: "test.crash", Detail: strings.Repeat("x", i%300)})
		if err != nil {
			fmt.Fprintln(os.Stderr, "add audit:", err)
			os.Exit(3)
		}
		// One write of a short line to a pipe is atomic: the parent sees the whole line or nothing.
		if _, err := fmt.Fprintf(os.Stdout, "committed %d\n", id); err != nil {
			os.Exit(3)
		}
	}
	os.Exit(4)
}

// A process killed at random points while committing leaves an intact database that holds
// every commit it reported (synchronous=FULL, WAL).
//
// Not parallel: it needs at least 10 child processes within its 25 s, and beside the CPU-bound
// property tests of this package a loaded machine does not start that many.
func TestCrashKeepsEveryReportedCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test spawns processes")
	}
	path := filepath.Join(t.TempDir(), FileName)
	const rounds = 25
	deadline := time.Now().Add(25 * time.Second)
	reported := map[int64]bool{}
	var kills int
	for round := 0; round < rounds && time.Now().Before(deadline); round++ {
		for _, id := range runCrashChild(t, path, round) {
			reported[id] = true
		}
		kills++
	}
	require.GreaterOrEqual(t, kills, 10, "too few rounds ran before the deadline")
	require.NotEmpty(t, reported, "the child never reported a commit")

	ctx := context.Background()
	require.NoError(t, CheckIntegrity(ctx, path))

	d, err := Open(path)
	require.NoError(t, err)
	defer d.Close()
	present := map[int64]bool{}
	rows, err := d.Reader.QueryContext(ctx, `SELECT id FROM audit_log WHERE kind = 'test.crash'`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		present[id] = true
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	var missing []int64
	for id := range reported {
		if !present[id] {
			missing = append(missing, id)
		}
	}
	assert.Empty(t, missing, "commits reported by the child but lost")
	// Ids are never reused: a row may have committed without being reported (killed between
	// commit and print), never the other way round.
	assert.GreaterOrEqual(t, len(present), len(reported))
	require.NoError(t, CheckIntegrity(ctx, path))
	t.Logf("%d kills, %d reported commits, %d rows", kills, len(reported), len(present))
}

// runCrashChild starts the child on path, lets it commit for a random short time and kills
// it with SIGKILL. It returns the ids the child reported.
func runCrashChild(t *testing.T, path string, round int) []int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	lines := make(chan string, 1024)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(lines)
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				// A fragment without its newline was not fully reported: ignore it.
				if err != io.EOF {
					t.Errorf("reading child output: %v", err)
				}
				return
			}
			lines <- strings.TrimSuffix(line, "\n")
		}
	}()

	var ids []int64
	parse := func(line string) {
		rest, ok := strings.CutPrefix(line, "committed ")
		if !ok {
			return // test framework output
		}
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			t.Errorf("child printed %q", line)
			return
		}
		ids = append(ids, id)
	}

	// Some rounds kill the child early (during start-up or migration), most after it has
	// committed something; the delay after that is random.
	var wait <-chan time.Time
	if round%5 == 4 {
		wait = time.After(time.Duration(rand.IntN(60)) * time.Millisecond)
	} else {
		timeout := time.After(10 * time.Second)
	first:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					break first
				}
				parse(line)
				if len(ids) > 0 {
					break first
				}
			case <-timeout:
				break first
			}
		}
		wait = time.After(time.Duration(rand.IntN(150)) * time.Millisecond)
	}
	exitedEarly := false
collect:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				exitedEarly = true
				break collect
			}
			parse(line)
		case <-wait:
			break collect
		}
	}
	_ = cmd.Process.Kill() // SIGKILL
	for line := range lines {
		parse(line)
	}
	<-readDone
	werr := cmd.Wait()
	if exitedEarly {
		t.Fatalf("crash child exited on its own (%v): %s", werr, stderr.String())
	}
	return ids
}
