package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"portier/app"
	"portier/auth"
	"portier/db"
	"portier/devices"
	"portier/handlers"
	"portier/handlers/api"
	"portier/handlers/clientip"
	"portier/i18n"
	"portier/mail"
	"portier/notify"
	"portier/sessionstore"
)

type serveConfig struct {
	Addr        string
	DataDir     string
	BaseURL     string
	CallbackURL string
	AllowSignup bool
	APIAddr     string
	SMTPURL     string
	// TrustedProxies is a comma-separated list of CIDRs (--trusted-proxies).
	TrustedProxies string
	Demo           bool
}

func serveFlags() (*flag.FlagSet, *serveConfig) {
	cfg := &serveConfig{}
	fs := newFlagSet("serve")
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&cfg.DataDir, "data-dir", "./data", "directory of the database and the secrets file")
	fs.StringVar(&cfg.BaseURL, "base-url", "", "URL people use to reach Portier, for links in emails (default http://ADDR)")
	fs.StringVar(&cfg.CallbackURL, "bridge-callback-url", "", "plain http URL at which Nuki Bridges on your network reach Portier, for instant updates (default --base-url when it is http)")
	fs.BoolVar(&cfg.AllowSignup, "allow-signup", false, "let anyone create a new account at /signup")
	fs.StringVar(&cfg.APIAddr, "api-addr", "", "optional second address serving only the web API at the root path")
	fs.StringVar(&cfg.SMTPURL, "smtp-url", "", "deliver emails through SMTP, e.g. smtp://user:pass@host:587?from=portier@example.com (default: keep them in the outbox and log them)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client, e.g. 127.0.0.1/32,10.0.0.0/8 (default: none, the TCP peer is the client)")
	fs.BoolVar(&cfg.Demo, "demo", false, "on a fresh data directory, create a demo account with a simulated bridge and print its login")
	return fs, cfg
}

func cmdServe(args []string, stdout, stderr io.Writer) error {
	fs, cfg := serveFlags()
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments, got %q", fs.Arg(0))
	}
	var sender mail.Sender
	var smtpConfig *mail.SMTPConfig
	if cfg.SMTPURL != "" {
		c, err := mail.ParseSMTPURL(cfg.SMTPURL)
		if err != nil {
			return usagef("--smtp-url: %s", strings.TrimPrefix(err.Error(), "smtp url: "))
		}
		smtpConfig = &c
		sender = mail.SMTPSender{Config: c}
	}
	trustedProxies, err := clientip.ParseCIDRs(cfg.TrustedProxies)
	if err != nil {
		return usagef("--trusted-proxies: %v", err)
	}
	base, err := baseURL(cfg.BaseURL, cfg.Addr)
	if err != nil {
		return err
	}
	callbackBase, err := bridgeCallbackBase(cfg.CallbackURL, base)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	if err := i18n.Load(); err != nil {
		return fmt.Errorf("message catalogue: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	secrets, err := auth.LoadOrCreateSecrets(cfg.DataDir)
	if err != nil {
		return err
	}
	key, err := secrets.EncryptionKeyBytes()
	if err != nil {
		return err
	}
	box, err := auth.NewSecretBox(key)
	if err != nil {
		return err
	}
	database, store, err := openStore(cfg.DataDir, true, log)
	if err != nil {
		return err
	}
	defer database.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	manager := devices.New(store, box, devices.Options{Log: log, Emails: notify.Emails{Site: base}, CallbackBase: callbackBase})
	if err := manager.Start(context.Background()); err != nil {
		return fmt.Errorf("starting the device connections: %w", err)
	}
	defer manager.Close()
	hasher := auth.NewHasher(auth.DefaultArgon2, 0)
	application := &app.App{Store: store, Devices: manager, Secrets: box, Hasher: hasher, Emails: notify.Emails{Site: base}, Now: time.Now}
	h := &handlers.Handler{
		App:      application,
		Store:    store,
		Devices:  manager,
		Sessions: sessionstore.New(store, time.Now, sessionstore.DefaultTimeouts, base.Scheme == "https"),
		Hasher:   hasher,
		Secrets:  box,
		Now:      time.Now,
		Log:      log,
		Config: handlers.Config{BaseURL: base, AllowSignup: cfg.AllowSignup, SMTPConfigured: smtpConfig != nil,
			TrustedProxies: trustedProxies},
	}
	if cfg.Demo {
		if err := createDemo(context.Background(), store, manager, application, cfg.DataDir, stdout); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	a := &api.API{App: application, Store: store, Devices: manager, Now: time.Now, Log: log}
	pages, err := h.HTTPHandler(h.Routes(a))
	if err != nil {
		return err
	}
	servers := []*http.Server{newServer(pages, log)}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	listeners := []net.Listener{ln}
	if cfg.APIAddr != "" {
		apiApp, err := h.HTTPHandler(h.APIRoutes(a))
		if err != nil {
			return err
		}
		apiLn, err := net.Listen("tcp", cfg.APIAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s: %w", cfg.APIAddr, err)
		}
		servers = append(servers, newServer(apiApp, log))
		listeners = append(listeners, apiLn)
	}

	var workers sync.WaitGroup
	workerCtx, stopWorkers := context.WithCancel(context.Background())
	if smtpConfig == nil {
		sender = mail.LogSender{Log: log}
		log.Warn("no SMTP server configured (--smtp-url): emails stay in the outbox (Settings → Mail outbox) and are written to this log")
	} else {
		log.Info("emails are delivered through SMTP", "server", smtpConfig.String())
	}
	worker := &mail.Worker{Store: store, Sender: sender, Log: log, Now: time.Now,
		Interval: 30 * time.Second, MaxAttempts: 10, Wake: store.Subscribe()}
	workers.Go(func() { worker.Run(workerCtx) })
	workers.Go(func() { cleanup(workerCtx, store, log) })
	workers.Go(func() { pruneActivity(workerCtx, store, log, time.Now, pruneActivityEvery) })

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	fmt.Fprintf(stdout, "Portier is running at %s (data in %s)\n", base, cfg.DataDir)
	if cfg.APIAddr != "" {
		fmt.Fprintf(stdout, "The web API also listens at http://%s/ (no /api prefix)\n", listeners[1].Addr())
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing requests in flight")
	case serveErr = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			log.Error("shutdown", "err", err)
		}
	}
	stopWorkers()
	workers.Wait()
	manager.Close()
	if err := database.Close(); err != nil {
		return fmt.Errorf("closing the database: %w", err)
	}
	log.Info("stopped; database closed")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// baseURL is --base-url, or http://ADDR with a wildcard host replaced by 127.0.0.1.
func baseURL(raw, addr string) (*url.URL, error) {
	if raw == "" {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, usagef("--addr %q: want host:port, like 127.0.0.1:8080", addr)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		raw = "http://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--base-url %q: want a URL like https://portier.example.com", raw)
	}
	return u, nil
}

// bridgeCallbackBase is where Nuki Bridges post state changes: --bridge-callback-url, else the
// base URL. Bridges post plain http only, so an https base URL gives none (bridges are then
// polled; the device page says why), and so does a loopback one for bridges elsewhere.
func bridgeCallbackBase(raw string, base *url.URL) (string, error) {
	if raw == "" {
		return base.String(), nil
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Scheme != "http" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", usagef("--bridge-callback-url %q: want a plain http URL on the bridges' network, like http://192.168.1.10:8080 (Nuki Bridges post http only)", raw)
	}
	return u.String(), nil
}

// cleanup removes expired sessions and stale throttle rows every few minutes.
func cleanup(ctx context.Context, store *db.Store, log *slog.Logger) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		now := time.Now()
		to := sessionstore.DefaultTimeouts
		if _, err := store.DeleteExpiredSessions(ctx, now.Add(-to.Idle), now.Add(-to.Absolute), now.Add(-to.RememberIdle), now.Add(-to.RememberAbsolute)); err != nil && ctx.Err() == nil {
			log.Error("cleanup: sessions", "err", err)
		}
		if err := store.DeleteStaleThrottles(ctx, now.Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
			log.Error("cleanup: throttles", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// openStore opens the database in dataDir; with migrate it refuses a newer schema, backs up an
// existing database before changing its schema, and applies pending migrations.
func openStore(dataDir string, migrate bool, log *slog.Logger) (*db.DB, *db.Store, error) {
	path := filepath.Join(dataDir, db.FileName)
	database, err := db.Open(path)
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	pending, err := database.CheckSchema(ctx)
	if err != nil {
		database.Close()
		return nil, nil, err
	}
	if migrate && pending > 0 {
		version, err := database.SchemaVersion(ctx)
		if err != nil {
			database.Close()
			return nil, nil, err
		}
		if version > 0 {
			backup := filepath.Join(dataDir, fmt.Sprintf("portier-before-migration-v%d-%s.db", version, time.Now().UTC().Format("20060102T150405Z")))
			if err := database.Backup(ctx, backup); err != nil {
				database.Close()
				return nil, nil, fmt.Errorf("backup before migration: %w", err)
			}
			log.Info("backed up the database before migrating", "file", backup)
		}
		n, err := database.Migrate(ctx)
		if err != nil {
			database.Close()
			return nil, nil, err
		}
		log.Info("applied database migrations", "count", n)
	}
	return database, db.NewStore(database, time.Now), nil
}
