package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

func diameterCommand() *command {
	return &command{name: "diameter", summary: "Diameter: run an S13 EIR / S6a guard node (simguard diameter --server URL), peers", run: diameterNode, subs: []*command{
		{name: "node", summary: "run a Diameter enforcement node (the same as simguard diameter --server URL ...)", run: diameterNode},
		{name: "peers", summary: "manage the Diameter peers (MMEs) allowed to connect", subs: []*command{
			{name: "add", summary: "allow a peer (admins)", run: peerAdd},
			{name: "list", summary: "list peers", run: peerList},
			{name: "rm", summary: "remove a peer (admins); its connection is closed", run: peerRemove},
		}},
	}}
}

func devicesCommand() *command {
	return &command{name: "devices", summary: "the operator's device list: stolen, blocked and watched IMEIs", subs: []*command{
		{name: "add", summary: "put devices on the list (writers)", run: deviceAdd},
		{name: "import", summary: "bulk import a CSV device list (writers)", run: deviceImport},
		{name: "list", summary: "list the device list", run: deviceList},
		{name: "rm", summary: "take a device off the list (writers)", run: deviceRemove},
	}}
}

func peerAdd(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "diameter peers add", "--origin-host HOST --prefix CIDR [flags]",
		"Allow an MME to connect: its CER must carry this Origin-Host and come from --prefix.")
	api := addAPIFlags(fs, env)
	host := fs.String("origin-host", "", "the peer's Origin-Host, e.g. mme1.epc.mnc001.mcc001.3gppnetwork.org")
	realm := fs.String("realm", "", "the Origin-Realm it must send (empty: any)")
	prefix := fs.String("prefix", "", "its source address or prefix, e.g. 192.0.2.10 or 192.0.2.0/28")
	plmns := fs.String("plmns", "", "networks it may report as Visited-PLMN-Id, comma-separated MCC-MNC (empty: any)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *host == "" || *prefix == "" {
		return usageError{"give --origin-host and --prefix"}
	}
	p, err := parsePrefixOrAddr(*prefix)
	if err != nil {
		return err
	}
	in := client.DiameterPeerInput{OriginHost: *host, Realm: *realm, Prefix: p}
	for _, s := range strings.Split(*plmns, ",") {
		if s = strings.TrimSpace(s); s != "" {
			in.PLMNs = append(in.PLMNs, s)
		}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	peer, err := c.CreateDiameterPeer(ctx, in)
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, peer)
	}
	fmt.Fprintf(env.stdout, "Diameter peer %d (%s, %s) allowed; Diameter servers reload their peers\n", peer.ID, peer.OriginHost, peer.Prefix)
	return nil
}

func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err == nil {
		return p, nil
	}
	a, aerr := netip.ParseAddr(s)
	if aerr != nil {
		return netip.Prefix{}, usageError{"--prefix: want an address or CIDR like 192.0.2.10 or 192.0.2.0/28"}
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func peerList(ctx context.Context, env *cliEnv, args []string) error {
	return runList(ctx, env, args, "diameter peers list", "List the Diameter peers allowed to connect.", (*client.Client).DiameterPeers, "ID\tORIGIN-HOST\tREALM\tPREFIX\tPLMNS",
		func(w io.Writer, p simguard.DiameterPeer) {
			realm, plmns := p.Realm, strings.Join(p.PLMNs, ",")
			if realm == "" {
				realm = "any"
			}
			if plmns == "" {
				plmns = "any"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", p.ID, p.OriginHost, realm, p.Prefix, plmns)
		})
}

func peerRemove(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "diameter peers rm", "ID [flags]", "Remove a Diameter peer: its connection is closed with DPR.")
	api := addAPIFlags(fs, env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the peer's ID (see simguard diameter peers list)"}
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return usageError{"the peer ID is a number"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	if err := c.DeleteDiameterPeer(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "Diameter peer %d removed\n", id)
	return nil
}

func deviceAdd(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "devices add", "--status stolen|blocked|watch [--note TEXT] IMEI…",
		"Put devices on the operator's list. stolen and blocked devices are denied everywhere the IMEI is\n"+
			"seen (the S13 EIR answers BLACKLISTED, RADIUS rejects, S6a refuses the attach); watched ones are\n"+
			"allowed and the EIR answers GREYLISTED.")
	api := addAPIFlags(fs, env)
	status := fs.String("status", "", "stolen, blocked or watch")
	note := fs.String("note", "", "why (a case number, a ticket)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || *status == "" {
		return usageError{"give --status and at least one IMEI"}
	}
	devs := make([]simguard.Device, len(pos))
	for i, imei := range pos {
		devs[i] = simguard.Device{IMEI: imei, Status: simguard.DeviceStatus(*status), Note: *note}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	n, err := c.PutDevices(ctx, devs)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%d device(s) on the list as %s\n", n, *status)
	return nil
}

func deviceImport(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "devices import", "FILE.csv|-", "Bulk import a device list: CSV with the header imei,status[,note]; all rows or none.")
	api := addAPIFlags(fs, env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the CSV file (or - for stdin)"}
	}
	in := env.stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	n, err := c.ImportDevicesCSV(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%d device(s) imported\n", n)
	return nil
}

func deviceList(ctx context.Context, env *cliEnv, args []string) error {
	return runList(ctx, env, args, "devices list", "List the tenant's device list.", (*client.Client).Devices, "IMEI\tSTATUS\tUPDATED\tNOTE",
		func(w io.Writer, d simguard.Device) {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", simguard.IMEIWithCheckDigit(d.IMEI), d.Status, d.UpdatedAt.Format("2006-01-02 15:04"), d.Note)
		})
}

func deviceRemove(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "devices rm", "IMEI [flags]", "Take a device off the list.")
	api := addAPIFlags(fs, env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the IMEI"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	if err := c.DeleteDevice(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "device %s removed from the list\n", pos[0])
	return nil
}
