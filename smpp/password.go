package smpp

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// HashPassword returns the bcrypt hash to keep in SMPPAccount.PasswordHash.
// SMPP 3.4 passwords have 1 to 8 characters.
func HashPassword(password string) (string, error) {
	if len(password) == 0 || len(password) > 8 {
		return "", fmt.Errorf("smpp password: want 1 to 8 characters (SMPP 3.4), got %d", len(password))
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash smpp password: %w", err)
	}
	return string(h), nil
}

// dummyHash is compared against when the system_id is unknown, so that an
// unknown account takes as long to refuse as a wrong password.
// It is the hash of a password nobody has, at bcrypt.DefaultCost.
const dummyHash = "$2a$10$YPmNHOzcdm9WjoDOlXWei.tMvZKrKmKuy/cfErBiRJzupGf1lqRcq"

// checkPassword reports whether password matches hash, in time that does
// not depend on where they differ (bcrypt compares in constant time).
func checkPassword(hash, password string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}
