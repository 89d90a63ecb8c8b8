// Package e2e clicks through the real pages in headless Chromium, driven from Go with chromedp.
// Locally the tests skip when Chromium is missing; in CI (CI=true) they fail instead.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns the browser binary, or skips (fails in CI) when there is none.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "Chromium not found: install Debian's chromium package (apt-get install -y chromium) to run the browser tests"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// chromium is the one headless Chromium that the tests of this package share: starting one
// costs more than most tests. The first NewBrowser starts it, TestMain stops it. Each Browser
// is a browser context of its own in it, so cookies and storage never pass between tests.
var chromium struct {
	once    sync.Once
	ctx     context.Context // the browser's first tab; browser contexts are made from it
	err     error
	stop    func()
	profile string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chromium.stop != nil {
		chromium.stop()
	}
	if chromium.profile != "" {
		_ = os.RemoveAll(chromium.profile)
	}
	os.Exit(code)
}

// startChromium starts the shared browser with a fresh profile, once.
func startChromium(exe string) error {
	chromium.once.Do(func() {
		chromium.profile, chromium.err = os.MkdirTemp("", "portier-e2e-chromium-")
		if chromium.err != nil {
			return
		}
		// Without these flags Chromium keeps trying hosts these machines cannot reach.
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(exe),
			chromedp.Flag("headless", true),
			chromedp.Flag("no-sandbox", true),
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("no-default-browser-check", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.UserDataDir(chromium.profile),
			chromedp.WindowSize(1280, 900),
		}
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(allocCtx)
		chromium.ctx = ctx
		chromium.stop = func() {
			cancelCtx()
			cancelAlloc()
		}
		chromium.err = chromedp.Do(ctx)
	})
	return chromium.err
}

// Browser is one tab in a browser context of its own (like a fresh profile) in the shared
// Chromium, and the errors its pages reported.
type Browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

// NewBrowser opens a tab in a new browser context with a viewport of the given size. The
// context and its cookies are disposed of when the test ends.
func NewBrowser(t *testing.T, width, height int) *Browser {
	t.Helper()
	exe := findChromium(t)
	if err := startChromium(exe); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	ctx, cancelCtx := chromedp.NewContext(chromium.ctx, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
	})
	b := &Browser{t: t, ctx: ctx}
	// Console subscribes before the first page loads; the goroutine ends with the context.
	messages := chromedp.Console(ctx)
	// The window has a minimum width; the emulated viewport is exactly what the test asks for.
	// Narrow widths are phones: touch, overlay scrollbars, the viewport meta tag applies.
	var viewportOpts []chromedp.EmulateViewportOption
	if width < 800 {
		viewportOpts = append(viewportOpts, chromedp.EmulateMobile)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height), viewportOpts...), chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// Errors, warnings and exceptions, including CSP violations from the browser log.
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException:
				// A page answered with 404 or 422 is expected in a test; 5xx is not.
				if m.Source == "network" && strings.Contains(m.Text, "status of 4") {
					continue
				}
				b.report(fmt.Sprintf("%s (%s)", m, m.URL))
			}
		}
	}()
	return b
}

func (b *Browser) report(problem string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, problem)
}

// Problems returns the console errors, exceptions and CSP violations seen so far.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// Do runs chromedp actions and fails the test on error, naming the step.
func (b *Browser) Do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.Shot("failed")
		b.t.Fatalf("%s: %v", step, err)
	}
}

// Value runs one action that returns a value and fails the test on error.
func Value[T any](b *Browser, step string, action chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, action)
	if err != nil {
		b.Shot("failed")
		b.t.Fatalf("%s: %v", step, err)
	}
	return v
}

// Text returns the visible text of the first element matching the CSS selector.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(Value(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// Location returns the current URL.
func (b *Browser) Location() string {
	b.t.Helper()
	return Value(b, "location", chromedp.Location())
}

// Eval evaluates a JavaScript expression in the page.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	return Value(b, "eval "+expr, chromedp.Evaluate[T](expr))
}

// Shot saves a full-page screenshot under $PORTIER_SHOTS, when it is set, for a person to look at.
func (b *Browser) Shot(name string) {
	dir := os.Getenv("PORTIER_SHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(dir, strings.ReplaceAll(b.t.Name(), "/", "-")+"-"+name+".png")
	if err := os.MkdirAll(dir, 0o755); err == nil {
		_ = os.WriteFile(file, png, 0o644)
	}
}

// NoSidewaysScroll fails the test when the current page is wider than the window.
func (b *Browser) NoSidewaysScroll(page string) {
	b.t.Helper()
	if Eval[bool](b, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
		wide := Eval[string](b, `JSON.stringify(Array.from(document.querySelectorAll("body *")).filter(function(e){return e.getBoundingClientRect().right > document.documentElement.clientWidth}).slice(0,5).map(function(e){return e.tagName+"."+e.className}))`)
		b.t.Errorf("%s scrolls sideways; too wide: %s", page, wide)
	}
}

// LogIn signs in on the login page of the app at baseURL and waits for the home page.
func (b *Browser) LogIn(baseURL, email, password string) {
	b.t.Helper()
	b.Do("log in",
		chromedp.Navigate(baseURL+"/login"),
		chromedp.WaitVisible(css(`[data-testid="login-form"]`)),
		chromedp.SendKeys(css(`#email`), email),
		chromedp.SendKeys(css(`#password`), password),
		chromedp.Click(css(`[data-testid="submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="home-title"]`)),
	)
}
