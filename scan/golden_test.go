package scan

import (
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// probeRequests are the bytes the scanner sends, by golden file name and
// the port and transport a decoder needs to recognize them.
var probeRequests = []struct {
	name  string
	proto string
	port  int
	b     []byte
}{
	{"snmp_get_sysdescr", "udp", 161, snmpGetSysDescr(0x5300)},
	{"coap_get_wellknown_core", "udp", 5683, coapWellKnownCore(0x5300)},
	{"dns_version_bind", "udp", 53, dnsVersionBind(0x5300)},
	{"ntp_client", "udp", 123, ntpClientQuery(0x5300)},
	{"ntp_readvar", "udp", 123, ntpReadVar(0x5347)},
	{"mqttsn_searchgw", "udp", 1883, udpProbes[4].request(0)},
	{"mqtt_connect", "tcp", 1883, mqttConnect("simguard-audit")},
	{"modbus_read_device_id", "tcp", 502, modbusReadDeviceID(0x5347)},
}

func TestProbeRequestsGolden(t *testing.T) {
	for _, p := range probeRequests {
		t.Run(p.name, func(t *testing.T) {
			path := filepath.Join("testdata", "probes", p.name+".hex")
			got := hex.EncodeToString(p.b) + "\n"
			if *update {
				os.WriteFile(path, []byte(got), 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("request changed:\n got  %s want %s", got, want)
			}
		})
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
