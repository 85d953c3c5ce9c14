package control_test

import (
	"bytes"
	"testing"

	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
)

// FuzzParseCSV: any bytes give rows that all validate, or an error; never
// a panic.
func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("iccid,imsi,msisdn,imei,group,state\n" + demo.ICCID(0) + "," + demo.IMSI(0) + ",491510000001,35209900000001,smart-meters,active\n"))
	f.Add([]byte("iccid,imsi,labels\n1,2,a=b;c\n"))
	f.Add([]byte("\ufeffICCID,IMSI\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := control.ParseCSV(bytes.NewReader(b), control.ImportOptions{Group: "g"})
		checkRows(t, rows, err)
	})
}

// FuzzParseJSON is FuzzParseCSV for the JSON import.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`[{"iccid":"` + demo.ICCID(0) + `","imsi":"` + demo.IMSI(0) + `","group":"g","labels":{"a":"b"}}]`))
	f.Add([]byte(`[{"iccid":1}]`))
	f.Add([]byte(`{"not":"an array"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := control.ParseJSON(bytes.NewReader(b), control.ImportOptions{Group: "g"})
		checkRows(t, rows, err)
	})
}

func checkRows(t *testing.T, rows []control.ImportRow, err error) {
	if err != nil {
		if len(rows) != 0 {
			t.Fatalf("rows returned with an error")
		}
		return
	}
	for _, r := range rows {
		s := r.SIM
		if err := s.Validate(); err != nil {
			t.Fatalf("line %d passed parsing but does not validate: %v", r.Line, err)
		}
	}
}
