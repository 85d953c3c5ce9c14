package simguard

import (
	"strings"
)

// Identifier rules. They are shared by the API, the importer and every
// protocol adapter so that "valid IMSI" means one thing everywhere.

// ValidateICCID checks an ICCID: 19 or 20 decimal digits whose Luhn check
// digit is right (ITU-T E.118). It returns an EINVALID *Error naming field
// "iccid".
func ValidateICCID(s string) error {
	if len(s) < 19 || len(s) > 20 || !allDigits(s) {
		return FieldError("iccid", "must be 19 or 20 digits, got %q", clip(s))
	}
	if !luhnValid(s) {
		return FieldError("iccid", "check digit of %q is wrong (Luhn)", s)
	}
	return nil
}

// ValidateIMSI checks an IMSI: exactly 15 decimal digits (3GPP TS 23.003).
func ValidateIMSI(s string) error {
	if len(s) != 15 || !allDigits(s) {
		return FieldError("imsi", "must be 15 digits, got %q", clip(s))
	}
	return nil
}

// NormalizeMSISDN accepts an E.164 number with or without a leading "+" and
// returns its digits only (country code first), or an EINVALID error for
// field "msisdn". E.164 numbers have at most 15 digits; we accept 6 or more
// so that national test ranges fit.
func NormalizeMSISDN(s string) (string, error) {
	d := strings.TrimPrefix(s, "+")
	if len(d) < 6 || len(d) > 15 || !allDigits(d) || d[0] == '0' {
		return "", FieldError("msisdn", "must be an E.164 number (country code, 6 to 15 digits, optional leading +), got %q", clip(s))
	}
	return d, nil
}

// NormalizeIMEI accepts an IMEI (15 digits, Luhn-checked), an IMEI without
// its check digit (14 digits) or an IMEISV (16 digits) and returns the 14
// digits that identify the device: TAC (8) and serial number (6). The
// check digit and the software version do not identify the device, so an
// IMEI lock compares these 14 digits only.
func NormalizeIMEI(s string) (string, error) {
	if !allDigits(s) {
		return "", FieldError("imei", "must be digits only, got %q", clip(s))
	}
	switch len(s) {
	case 14:
		return s, nil
	case 15:
		if !luhnValid(s) {
			return "", FieldError("imei", "check digit of %q is wrong (Luhn)", s)
		}
		return s[:14], nil
	case 16:
		return s[:14], nil
	}
	return "", FieldError("imei", "must be 14, 15 (IMEI) or 16 (IMEISV) digits, got %d", len(s))
}

// IMEIWithCheckDigit returns the 15-digit IMEI for 14 digits of TAC and
// serial number, adding the Luhn check digit. It is how IMEIs are shown.
func IMEIWithCheckDigit(imei14 string) string {
	if len(imei14) != 14 || !allDigits(imei14) {
		return imei14
	}
	return imei14 + string(rune('0'+luhnCheckDigit(imei14)))
}

// ParseDigits returns the decimal value of s, which must be 1 to 19 digits.
// It does not allocate; adapters use it on the hot path.
func ParseDigits(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// luhnValid reports whether the last digit of s is the Luhn check digit of
// the digits before it.
func luhnValid(s string) bool {
	return int(s[len(s)-1]-'0') == luhnCheckDigit(s[:len(s)-1])
}

// luhnCheckDigit computes the Luhn check digit for payload digits.
func luhnCheckDigit(payload string) int {
	sum := 0
	double := true // the rightmost payload digit is doubled
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return (10 - sum%10) % 10
}

// clip shortens hostile input before it is echoed back in an error.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
