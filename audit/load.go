package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// LoadKey reads an existing signing key, like LoadOrCreateKey, but never
// creates one: verifying with a fresh key would call every checkpoint
// forged.
func LoadKey(path string) (*Signer, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("audit key %s does not exist: is this a simguard data directory?", path)
	}
	return LoadOrCreateKey(path)
}
