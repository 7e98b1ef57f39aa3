package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/scimd/scimd/sqlstore"
)

// dbConfig is the database a command uses: --db and, for PostgreSQL, the
// pool's settings.
type dbConfig struct {
	DSN     string
	Options sqlstore.Options
}

// addDBFlags registers --db and the PostgreSQL pool flags on fs.
func addDBFlags(fs *flag.FlagSet) *dbConfig {
	c := &dbConfig{}
	fs.StringVar(&c.DSN, "db", env("SCIMD_DB", defaultDB),
		"database: a SQLite file path, or postgres://user:pass@host:port/db?sslmode=… (env SCIMD_DB)")
	fs.IntVar(&c.Options.MaxOpenConns, "db-max-open-conns", envInt("SCIMD_DB_MAX_OPEN_CONNS", 20),
		"PostgreSQL: most connections this replica opens (env SCIMD_DB_MAX_OPEN_CONNS)")
	fs.IntVar(&c.Options.MaxIdleConns, "db-max-idle-conns", envInt("SCIMD_DB_MAX_IDLE_CONNS", 10),
		"PostgreSQL: most idle connections kept open (env SCIMD_DB_MAX_IDLE_CONNS)")
	fs.DurationVar(&c.Options.ConnMaxLifetime, "db-conn-max-lifetime", envDuration("SCIMD_DB_CONN_MAX_LIFETIME", 30*time.Minute),
		"PostgreSQL: connections are replaced after this long, so that a load balancer or failover spreads them again (env SCIMD_DB_CONN_MAX_LIFETIME)")
	fs.DurationVar(&c.Options.StatementTimeout, "db-statement-timeout", envDuration("SCIMD_DB_STATEMENT_TIMEOUT", 30*time.Second),
		"PostgreSQL: statements running longer are cancelled and answered 503; negative: no limit (env SCIMD_DB_STATEMENT_TIMEOUT)")
	return c
}

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		fmt.Fprintf(os.Stderr, "scimd: ignoring %s=%q: not a number\n", name, v)
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
		fmt.Fprintf(os.Stderr, "scimd: ignoring %s=%q: not a duration such as 30s\n", name, v)
	}
	return def
}
