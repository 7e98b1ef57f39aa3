package scim

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// idClock keeps the ids of one process strictly increasing, so that id
// order is creation order even within one millisecond (RFC 9562 §6.2,
// method 1: a counter in rand_a, seeded randomly each millisecond).
var idClock struct {
	sync.Mutex
	ms  uint64
	seq uint16 // 12 bits
}

// NewID returns a new resource id: a UUIDv7 (RFC 9562), time-ordered so
// that ids created together sit together in indexes, and strictly
// increasing within this process; 62 bits are random.
func NewID(now time.Time) string {
	var u [16]byte
	_, _ = rand.Read(u[6:]) // crypto/rand.Read never fails (Go 1.24+)
	ms := uint64(now.UnixMilli())

	idClock.Lock()
	switch {
	case ms > idClock.ms:
		// A new millisecond: start the counter at a random point in its
		// lower half, leaving room to count up.
		idClock.ms, idClock.seq = ms, binary.BigEndian.Uint16(u[6:8])&0x07ff
	default:
		// The same millisecond, or the clock went back: count on from the
		// last id, carrying into the millisecond when the counter is full.
		idClock.seq++
		if idClock.seq > 0x0fff {
			idClock.ms, idClock.seq = idClock.ms+1, 0
		}
	}
	ms, seq := idClock.ms, idClock.seq
	idClock.Unlock()

	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	u[6] = 0x70 | byte(seq>>8) // version 7, then the counter's top 4 bits
	u[7] = byte(seq)
	u[8] = u[8]&0x3f | 0x80 // variant 10
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
