// Command bridgesim serves a simulated Nuki Bridge over the Bridge HTTP API (devices/sim), to
// try Portier or any other Bridge API client without hardware.
//
//	bridgesim [--addr 127.0.0.1:8080] [--token T] [--hashed-only|--plain-only] [--speed 1] [--devices demo|none] [--clock-offset 0]
//
// It prints one line with the URL and the token, then serves until SIGINT or SIGTERM. Every line
// typed on standard input presses the bridge's button (for /auth, the token request).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"portier/devices/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `bridgesim: a simulated Nuki Bridge (Bridge HTTP API) for trying clients without hardware.

Usage:
  bridgesim [--addr 127.0.0.1:8080] [--token T] [--hashed-only|--plain-only] [--speed 1] [--devices demo|none] [--clock-offset 0]

Flags:
  --addr ADDR      listen address (default 127.0.0.1:8080; port 0 picks a free one)
  --token T        the bridge's API token (default: a random one, printed at start)
  --hashed-only    refuse the plain token (token=); accept only ts/rnr/hash or ctoken/nonce
  --plain-only     accept only the plain token, like older firmware
  --speed F        time scale of the devices: 1 real time, 0.1 ten times faster (default 1)
  --devices SET    demo: the demo locks, opener and smart door (default); none: no devices
  --clock-offset D the bridge's clock is D ahead (-3m12s: behind) of this machine's; beyond
                   about a minute it refuses hashed tokens, as a real bridge with a wrong clock

Every line typed on standard input presses the bridge's button (GET /auth hands out the token).
SIGINT or SIGTERM stops it.
`

type config struct {
	addr    string
	token   string
	tokens  sim.TokenModes
	speed   float64
	devices string
	offset  time.Duration
}

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func parseFlags(args []string) (config, error) {
	var c config
	var hashedOnly, plainOnly bool
	fs := flag.NewFlagSet("bridgesim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "")
	fs.StringVar(&c.token, "token", "", "")
	fs.BoolVar(&hashedOnly, "hashed-only", false, "")
	fs.BoolVar(&plainOnly, "plain-only", false, "")
	fs.Float64Var(&c.speed, "speed", 1, "")
	fs.StringVar(&c.devices, "devices", "demo", "")
	fs.DurationVar(&c.offset, "clock-offset", 0, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, usageError{err.Error() + "; run 'bridgesim --help'"}
	}
	switch {
	case fs.NArg() > 0:
		return c, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	case hashedOnly && plainOnly:
		return c, usageError{"--hashed-only and --plain-only exclude each other"}
	case !(c.speed > 0) || c.speed > 1000:
		return c, usageError{fmt.Sprintf("--speed %v: must be above 0 (1 is real time)", c.speed)}
	case c.devices != "demo" && c.devices != "none":
		return c, usageError{fmt.Sprintf("--devices %q: must be demo or none", c.devices)}
	case c.addr == "":
		return c, usageError{"--addr must not be empty"}
	}
	if hashedOnly {
		c.tokens = sim.HashedOnly
	}
	if plainOnly {
		c.tokens = sim.PlainOnly
	}
	return c, nil
}

// run starts the simulator and serves until ctx ends. It returns the exit status: 0 ok,
// 1 failure (the address is taken), 2 bad arguments.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if err == nil {
		err = serve(ctx, c, stdin, stdout)
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "bridgesim: "+ue.msg)
		return 2
	default:
		fmt.Fprintln(stderr, "bridgesim: "+err.Error())
		return 1
	}
}

func serve(ctx context.Context, c config, stdin io.Reader, stdout io.Writer) error {
	b := sim.New(sim.Options{Speed: c.speed, Now: func() time.Time { return time.Now().Add(c.offset) }})
	defer b.Close()
	n := 0
	if c.devices == "demo" {
		for _, spec := range sim.DemoDevices() {
			if !spec.Type.OnBridge() {
				continue
			}
			if _, err := b.Pair(spec); err != nil {
				return err
			}
			n++
		}
	}
	h := sim.NewHTTP(b, sim.HTTPOptions{Token: c.token, Tokens: c.tokens})
	defer h.Close()
	if err := h.Start(c.addr); err != nil {
		return err
	}
	forms := "plain or hashed token"
	switch c.tokens {
	case sim.HashedOnly:
		forms = "hashed token only"
	case sim.PlainOnly:
		forms = "plain token only"
	}
	fmt.Fprintf(stdout, "bridgesim: Nuki Bridge API on %s token %s (%s, %d devices; Enter presses the bridge button)\n", h.URL(), h.Token(), forms, n)
	go func() {
		lines := bufio.NewScanner(stdin)
		for lines.Scan() {
			h.PressButton()
		}
	}()
	<-ctx.Done()
	return nil
}
