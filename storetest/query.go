package storetest

import (
	"testing"

	"github.com/scimd/scimd/scim"
)

// testQuery checks sorting, paging and searches across types.
func testQuery(t *testing.T, s scim.Store) {
}
