// Command scimd is a SCIM 2.0 provisioning server: Okta and Microsoft
// Entra ID provision users and groups into it, and applications read them.
//
// Usage:
//
//	scimd serve [--addr :8080] [--db scimd-data/scimd.db] [--public-url URL]
//	scimd token create --name NAME [--expires 90d]
//	scimd token list
//	scimd token revoke NAME_OR_ID
//	scimd admin password [--user admin]
//	scimd migrate
//	scimd copy --from DSN --to DSN
//
// Every command takes --db: a SQLite file path or a postgres:// URL.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `scimd — a SCIM 2.0 provisioning server for Okta and Microsoft Entra ID

Usage:
  scimd serve [flags]                     run the server
  scimd token create --name NAME [--expires 90d]
                                          create a SCIM bearer token and print it
  scimd token list                        list tokens (never the secrets)
  scimd token revoke NAME_OR_ID           revoke a token
  scimd admin password [--user admin]     set a console password from standard input
  scimd migrate                           apply database migrations (serve also does)
  scimd copy --from DSN --to DSN          copy everything into a new database
                                          (SQLite to PostgreSQL, or back)
  scimd version                           print the version

Every command takes --db (env SCIMD_DB; default scimd-data/scimd.db): a
SQLite file path, or postgres://user:pass@host:port/db?sslmode=… .
Run "scimd COMMAND -h" for a command's flags.
`

// run is scimd's main, with its environment passed in so that tests can
// start it in-process. It returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "token":
		err = token(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = migrate(ctx, args[1:], stdout, stderr)
	case "copy":
		err = copyDB(ctx, args[1:], stdout, stderr)
	case "admin":
		err = adminCmd(ctx, args[1:], stdin, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "scimd", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "scimd: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		if err == errUsage {
			return 2
		}
		fmt.Fprintln(stderr, "scimd:", err)
		return 1
	}
	return 0
}
