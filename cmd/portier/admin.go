package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"portier/app"
	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/models"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func cmdMigrate(args []string, stdout io.Writer) error {
	fs := newFlagSet("migrate")
	dataDir := fs.String("data-dir", "./data", "directory of the database")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("migrate takes no arguments, got %q", fs.Arg(0))
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return err
	}
	database, _, err := openStore(*dataDir, true, quietLog())
	if err != nil {
		return err
	}
	defer database.Close()
	v, err := database.SchemaVersion(context.Background())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Database %s is at schema version %d.\n", database.Path, v)
	return nil
}

func cmdBackup(args []string, stdout io.Writer) error {
	fs := newFlagSet("backup")
	dataDir := fs.String("data-dir", "./data", "directory of the database")
	// Allow "backup FILE --data-dir D" as well as "backup --data-dir D FILE".
	var target string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		target, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if target == "" && fs.NArg() > 0 {
		target = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usagef("backup takes one FILE, got also %q", fs.Arg(0))
	}
	if target == "" {
		return usagef("backup needs the FILE to write: portier backup FILE")
	}
	path := filepath.Join(*dataDir, db.FileName)
	if _, err := os.Stat(path); errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("no database at %s; check --data-dir", path)
	}
	database, _, err := openStore(*dataDir, false, quietLog())
	if err != nil {
		return err
	}
	defer database.Close()
	if err := database.Backup(context.Background(), target); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backup written to %s (integrity check: ok).\n", target)
	return nil
}

func cmdAccounts(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("usage: portier accounts create --email E --name N [--kind web|box] [--account-name A] (password on stdin)")
	}
	fs := newFlagSet("accounts create")
	dataDir := fs.String("data-dir", "./data", "directory of the database")
	email := fs.String("email", "", "email of the main login")
	name := fs.String("name", "", "name of the main login")
	accountName := fs.String("account-name", "", "name of the account (default: --name)")
	kindFlag := fs.String("kind", "web", "web or box")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("accounts create takes no arguments, got %q", fs.Arg(0))
	}
	kind, ok := models.ParseAccountKind(*kindFlag)
	if !ok {
		return usagef("--kind %q: use web or box", *kindFlag)
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	n := models.NewAccount{Kind: kind, AccountName: *accountName, Name: *name, Email: *email, Password: password}
	n.Normalize()
	if err := n.Validate(); err != nil {
		return usageError{englishValidation(err)}
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return err
	}
	database, store, err := openStore(*dataDir, true, quietLog())
	if err != nil {
		return err
	}
	defer database.Close()
	ctx := context.Background()
	application := &app.App{Store: store, Hasher: auth.NewHasher(auth.DefaultArgon2, 1), Now: store.Now}
	acc, login, err := application.CreateAccount(ctx, models.Actor{Origin: models.ActorCLI}, n, nil, false)
	var invalid app.FieldErrors
	if errors.As(err, &invalid) && invalid["email"] == "invalid.email_taken" {
		return fmt.Errorf("a login with email %s already exists", n.Email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created %s account %q (account %d) with main login %s (login %d).\n", string(acc.Kind), acc.Name, acc.ID, login.Email, login.ID)
	return nil
}

// readPassword reads the first line of stdin (a terminal, a pipe or a file).
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(stdin, 8192)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef("give the password on standard input, e.g. echo 'correct horse battery' | portier accounts create …")
	}
	return line, nil
}

func cmdTokens(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("usage: portier tokens create --email E --scopes S1,S2 [--description D] [--expires 90d]")
	}
	fs := newFlagSet("tokens create")
	dataDir := fs.String("data-dir", "./data", "directory of the database")
	email := fs.String("email", "", "email of the login the token acts for")
	scopesFlag := fs.String("scopes", "", "comma-separated scopes: "+models.Scopes(models.AllScopes).String())
	description := fs.String("description", "", "what the token is for")
	expires := fs.String("expires", "", "lifetime such as 90d or 12h (default: never)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("tokens create takes no arguments, got %q", fs.Arg(0))
	}
	if *email == "" {
		return usagef("--email is required")
	}
	scopes, err := models.ParseScopes(*scopesFlag)
	if err != nil {
		return usagef("--scopes: %v", err)
	}
	var expiresAt *time.Time
	if *expires != "" {
		d, err := parseExpiry(*expires)
		if err != nil {
			return usageError{err.Error()}
		}
		t := time.Now().Add(d).UTC()
		expiresAt = &t
	}
	if models.ValidateAPIDescription(*description) != "" {
		return usagef("--description: use one line of at most %d characters", models.APIDescriptionMax)
	}
	database, store, err := openStore(*dataDir, true, quietLog())
	if err != nil {
		return err
	}
	defer database.Close()
	ctx := context.Background()
	login, _, err := store.FindLoginByEmail(ctx, *email)
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Errorf("no login with email %s", *email)
	}
	if err != nil {
		return err
	}
	// The same checks as the tokens page and the Web API (app.CreateToken): only a main login or
	// a sub-account holds tokens, and no scope goes beyond the login's rights.
	uc := &app.App{Store: store, Now: time.Now}
	tok, secret, err := uc.CreateToken(ctx, models.SessionOperator(login), models.Actor{Origin: models.ActorCLI},
		app.NewToken{Description: *description, Scopes: scopes, ExpiresAt: expiresAt})
	var refused *app.ScopesRefused
	switch {
	case errors.Is(err, app.ErrWebKeyToken):
		return usagef("%s signs in to a web key; only the main login or a sub-account can hold API tokens", login.Email)
	case errors.As(err, &refused):
		return usagef("--scopes: %s need rights that %s does not have", refused.Lacking, login.Email)
	case err != nil:
		return err
	}
	exp := "never expires"
	if expiresAt != nil {
		exp = "expires " + expiresAt.Format(time.RFC3339)
	}
	fmt.Fprintf(stdout, "Created API token %d for %s (scopes %s; %s).\nIt is shown only now; store it somewhere safe:\n%s\n", tok.ID, login.Email, scopes, exp, secret)
	return nil
}

// englishValidation writes validation errors (message keys) as English sentences for the
// command line, e.g. "--email: Enter an email address like anna@example.com."
func englishValidation(err error) string {
	var ve models.ValidationErrors
	if !errors.As(err, &ve) {
		return err.Error()
	}
	en := i18n.New("en", "UTC")
	fields := make([]string, 0, len(ve))
	for f := range ve {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		flagName := strings.ReplaceAll(f, "_", "-")
		if flagName == "password" {
			flagName = "password (stdin)"
		} else {
			flagName = "--" + flagName
		}
		parts = append(parts, flagName+": "+en.T(ve[f]))
	}
	return strings.Join(parts, " ")
}

// cmdLogins is `portier logins disable-2fa --email E`: for an owner who lost both the phone and
// the recovery codes. Every session of the login ends; the audit trail records it.
func cmdLogins(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "disable-2fa" {
		return usagef("usage: portier logins disable-2fa --email E")
	}
	fs := newFlagSet("logins disable-2fa")
	dataDir := fs.String("data-dir", "./data", "directory of the database")
	email := fs.String("email", "", "email of the login")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("logins disable-2fa takes no arguments, got %q", fs.Arg(0))
	}
	if *email == "" {
		return usagef("--email is required")
	}
	database, store, err := openStore(*dataDir, true, quietLog())
	if err != nil {
		return err
	}
	defer database.Close()
	ctx := context.Background()
	login, _, err := store.FindLoginByEmail(ctx, *email)
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Errorf("no login with email %s", *email)
	}
	if err != nil {
		return err
	}
	if !login.TwoFactor() {
		fmt.Fprintf(stdout, "Two-factor authentication is already off for %s.\n", login.Email)
		return nil
	}
	application := &app.App{Store: store, Now: store.Now}
	if err := application.ResetTwoFactor(ctx, models.Actor{Origin: models.ActorCLI}, login); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Two-factor authentication is off for %s; all its sessions ended. They can sign in with the password and turn it on again.\n", login.Email)
	return nil
}
