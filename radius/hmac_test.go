package radius

import (
	"crypto/hmac"
	"crypto/md5"
	"testing"
)

// TestHMACMD5 checks the allocation-free HMAC against crypto/hmac, for
// short keys and keys longer than the block.
func TestHMACMD5(t *testing.T) {
	for _, key := range []string{"", "k", "s3cret-nas-1", string(make([]byte, 64)), string(make([]byte, 100))} {
		for _, msg := range []string{"", "abc", string(make([]byte, 4096))} {
			h := hmac.New(md5.New, []byte(key))
			h.Write([]byte(msg))
			if got := hmacMD5([]byte(key), []byte(msg)); string(got[:]) != string(h.Sum(nil)) {
				t.Errorf("key %d bytes, msg %d bytes: mismatch", len(key), len(msg))
			}
		}
	}
	if n := testing.AllocsPerRun(100, func() { hmacMD5([]byte("key"), make([]byte, 100)) }); n != 0 {
		t.Errorf("hmacMD5 allocates %v times", n)
	}
}
