package stockalert

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// MaxIdempotencyKeyLen bounds a client's idempotency key.
const MaxIdempotencyKeyLen = 128

// DefaultIdempotencyTTL is how long an idempotency record is kept when not configured.
const DefaultIdempotencyTTL = 24 * time.Hour

// IdempotencyClaim identifies a request that must take effect at most once: Scope names the operation
// (for example "register-user"), Key is the client's Idempotency-Key and Fingerprint a digest of the
// request payload, so a key reused for a different request can be refused.
type IdempotencyClaim struct {
	Scope       string
	Key         string
	Fingerprint string
}

// ParseIdempotencyKey checks a client's key: 1 to MaxIdempotencyKeyLen printable ASCII characters. It
// returns a *ValidationError for field "Idempotency-Key" otherwise.
func ParseIdempotencyKey(key string) (string, error) {
	if key == "" || len(key) > MaxIdempotencyKeyLen {
		return "", Invalid("Idempotency-Key", "must be 1 to %d characters", MaxIdempotencyKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return "", Invalid("Idempotency-Key", "must be printable ASCII without spaces")
		}
	}
	return key, nil
}

// Fingerprint digests the parts of a request that define it.
func Fingerprint(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
