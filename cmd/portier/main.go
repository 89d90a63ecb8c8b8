// Command portier is the Portier server and its administration commands.
//
//	portier [serve] [flags]          run the web portal (default)
//	portier migrate                   apply database migrations
//	portier backup FILE               write a consistent online backup
//	portier accounts create …         create an account with its main login
//	portier tokens create …           create an API token for a login
//	portier logins disable-2fa …      turn off two-factor authentication of a locked-out login
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command and returns the exit status: 0 ok, 1 failure, 2 bad arguments.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(args, stdout, stderr)
	case "migrate":
		err = cmdMigrate(args, stdout)
	case "backup":
		err = cmdBackup(args, stdout)
	case "accounts":
		err = cmdAccounts(args, stdin, stdout)
	case "tokens":
		err = cmdTokens(args, stdout)
	case "logins":
		err = cmdLogins(args, stdout)
	case "help", "-h", "--help":
		printHelp(stdout)
		return 0
	default:
		err = usagef("unknown command %q; run 'portier help'", cmd)
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		printHelp(stdout)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "portier: "+ue.msg)
		return 2
	default:
		fmt.Fprintln(stderr, "portier: "+err.Error())
		return 1
	}
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `Portier: a self-hosted web portal for Nuki smart locks.

Usage:
  portier [serve] [flags]                       run the web portal (default command)
  portier migrate [--data-dir D]                apply database migrations (serve does this too)
  portier backup FILE [--data-dir D]            write a consistent online backup to FILE
  portier accounts create --email E --name N [--kind web|box] [--account-name A]
                                                create an account; reads the password from stdin
  portier tokens create --email E --scopes S1,S2 [--description D] [--expires 90d]
                                                create an API token; prints it once, on the last line
  portier logins disable-2fa --email E [--data-dir D]
                                                turn off two-factor authentication of a login that lost its
                                                phone and recovery codes; ends its sessions

Serve flags (each also as an environment variable):
`)
	fs, _ := serveFlags()
	printFlags(w, fs)
}
