package scim

import (
	"regexp"
	"testing"
	"time"
)

func TestNewIDOrdered(t *testing.T) {
	uuidv7 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	now := time.Now()
	prev := ""
	seen := map[string]bool{}
	// Many ids in one millisecond, then the clock going back: still
	// strictly increasing and well-formed.
	for i := range 10000 {
		at := now
		if i > 5000 {
			at = now.Add(-time.Second)
		}
		id := NewID(at)
		if !uuidv7.MatchString(id) {
			t.Fatalf("%q is not a UUIDv7", id)
		}
		if id <= prev || seen[id] {
			t.Fatalf("id %d %s does not follow %s", i, id, prev)
		}
		seen[id], prev = true, id
	}
	// A later millisecond starts past the ids before it.
	if id := NewID(now.Add(time.Hour)); id <= prev {
		t.Errorf("id an hour later %s <= %s", id, prev)
	}
}
