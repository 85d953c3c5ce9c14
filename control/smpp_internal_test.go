package control

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The dummy hash must cost what a real one costs, or an unknown system_id
// would be refused faster than a wrong password.
func TestDummySMPPHashCost(t *testing.T) {
	cost, err := bcrypt.Cost([]byte(dummySMPPHash))
	if err != nil || cost != smppHashCost {
		t.Fatalf("dummy hash cost %d (%v), want %d", cost, err, smppHashCost)
	}
	if bcrypt.CompareHashAndPassword([]byte(dummySMPPHash), []byte("")) == nil {
		t.Fatal("the dummy hash matches the empty password")
	}
}
