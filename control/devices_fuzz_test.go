package control_test

import (
	"strings"
	"testing"

	"github.com/simguard/simguard/control"
)

// FuzzParseDevicesCSV: any CSV yields devices that validate, or an error
// that names the csv field; never a panic.
func FuzzParseDevicesCSV(f *testing.F) {
	f.Add("imei,status,note\n356092040793009,stolen,case 1\n35609204079301,WATCH,\n")
	f.Add("status,imei\nblocked,35609204079300\n")
	f.Add("\ufeffimei,status\n\"3560920407930\"\"1\",watch\n")
	f.Fuzz(func(t *testing.T, in string) {
		devs, err := control.ParseDevicesCSV(strings.NewReader(in))
		if err != nil {
			if !strings.Contains(err.Error(), "csv") {
				t.Fatalf("error without the field: %v", err)
			}
			return
		}
		for _, d := range devs {
			c := d
			if err := c.Validate(); err != nil || c.IMEI != d.IMEI {
				t.Fatalf("parsed device does not validate: %+v %v", d, err)
			}
		}
	})
}
