package sqlstore_test

import (
	"testing"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/sqlstore"
	"github.com/scimd/scimd/sqlstore/pgtest"
	"github.com/scimd/scimd/storetest"
)

// openPostgres opens a store on a new schema of the test server.
func openPostgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	return pgtest.Open(t, sqlstore.Options{})
}

func TestPostgres(t *testing.T) {
	pgtest.ServerDSN(t)
	storetest.Run(t, func(t *testing.T) scim.Store { return openPostgres(t) })
}
