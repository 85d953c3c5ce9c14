package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

func radiusCommand() *command {
	return &command{name: "radius", summary: "RADIUS: run an enforcement node (simguard radius --server URL), NAS clients, sessions", run: radiusNode, subs: []*command{
		{name: "node", summary: "run a RADIUS enforcement node (the same as simguard radius --server URL ...)", run: radiusNode},
		{name: "nas", summary: "manage the NAS clients simguard answers", subs: []*command{
			{name: "add", summary: "register a NAS client (admins; the secret is read from stdin)", run: nasAdd},
			{name: "list", summary: "list NAS clients", run: nasList},
			{name: "delete", summary: "remove a NAS client (admins)", run: nasDelete},
		}},
		{name: "sessions", summary: "list data sessions from accounting", run: radiusSessions},
	}}
}

func nasAdd(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "radius nas add", "--name NAME --prefix CIDR [flags] < secret",
		"Register a packet gateway. Its shared secret is read from the first line of stdin, so that it\nstays out of shell history and process lists; it is stored encrypted and never shown again.")
	api := addAPIFlags(fs, env)
	name := fs.String("name", "", "a name for the gateway, e.g. pgw-berlin-1")
	prefix := fs.String("prefix", "", "its source address or prefix, e.g. 192.0.2.10 or 192.0.2.0/28")
	coaPort := fs.Uint("coa-port", simguard.DefaultCoAPort, "its Disconnect/CoA port (RFC 5176)")
	coaAddr := fs.String("coa-addr", "", "where Disconnect-Requests go (default: the address accounting comes from)")
	identity := fs.String("identity", "", "identity attributes in order, comma-separated: 3gpp-imsi,user-name,calling-station-id")
	legacy := fs.Bool("allow-missing-message-authenticator", false, "accept Access-Requests without Message-Authenticator (unsafe: Blast-RADIUS)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" || *prefix == "" {
		return usageError{"give --name and --prefix"}
	}
	in := client.NASClientInput{Name: *name, CoAPort: uint16(*coaPort), AllowMissingMessageAuthenticator: *legacy}
	p, err := netip.ParsePrefix(*prefix)
	if err != nil {
		a, aerr := netip.ParseAddr(*prefix)
		if aerr != nil {
			return usageError{"--prefix: want an address or CIDR like 192.0.2.10 or 192.0.2.0/28"}
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	in.Prefix = p
	if *coaAddr != "" {
		if in.CoAAddr, err = netip.ParseAddr(*coaAddr); err != nil {
			return usageError{"--coa-addr: want an IP address"}
		}
	}
	for _, s := range strings.Split(*identity, ",") {
		if s = strings.TrimSpace(s); s != "" {
			in.IdentityOrder = append(in.IdentityOrder, simguard.IdentitySource(s))
		}
	}
	line, _ := bufio.NewReader(env.stdin).ReadString('\n') // a last line without newline is fine
	if in.Secret = strings.TrimRight(line, "\r\n"); in.Secret == "" {
		return usageError{"write the shared secret to stdin, e.g. simguard radius nas add ... < secret.txt"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	n, err := c.CreateNASClient(ctx, in)
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, n)
	}
	fmt.Fprintf(env.stdout, "NAS client %d (%s, %s) registered; RADIUS servers reload their clients\n", n.ID, n.Name, n.Prefix)
	return nil
}

func nasList(ctx context.Context, env *cliEnv, args []string) error {
	return runList(ctx, env, args, "radius nas list", "List the tenant's NAS clients (secrets are never shown).", (*client.Client).NASClients, "ID\tNAME\tPREFIX\tCOA\tMESSAGE-AUTHENTICATOR\tIDENTITY",
		func(w io.Writer, n simguard.NASClient) {
			ma := "required"
			if n.AllowMissingMessageAuthenticator {
				ma = "optional"
			}
			coa := strconv.Itoa(int(n.CoAPort))
			if n.CoAAddr.IsValid() {
				coa = netip.AddrPortFrom(n.CoAAddr, n.CoAPort).String()
			}
			ids := make([]string, len(n.IdentityOrder))
			for i, s := range n.IdentityOrder {
				ids[i] = string(s)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", n.ID, n.Name, n.Prefix, coa, ma, strings.Join(ids, ","))
		})
}

func nasDelete(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "radius nas delete", "ID [flags]", "Remove a NAS client: its packets are dropped from then on.")
	api := addAPIFlags(fs, env)
	ifVersion := fs.Int64("if-version", 0, "only if the client is still at this version")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the NAS client's ID (see simguard radius nas list)"}
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return usageError{"the NAS client ID is a number"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	if err := c.DeleteNASClient(ctx, id, *ifVersion); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "NAS client %d removed\n", id)
	return nil
}

func radiusSessions(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "radius sessions", "[flags]", "List data sessions seen in RADIUS accounting, oldest first.")
	api := addAPIFlags(fs, env)
	live := fs.Bool("live", false, "only sessions that have not stopped")
	sim := fs.Int64("sim", 0, "only this SIM's (ID)")
	nas := fs.String("nas", "", "only this NAS client's")
	after := fs.Int64("after", 0, "page: sessions with a larger ID")
	limit := fs.Int("limit", 100, "at most this many")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	list, next, err := c.RADIUSSessions(ctx, simguard.RADIUSSessionFilter{SIMID: *sim, NAS: *nas, LiveOnly: *live, AfterID: *after, Limit: *limit})
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, list)
	}
	tw := table(env.stdout)
	fmt.Fprintln(tw, "ID\tSIM\tIMSI\tNAS\tSESSION\tIP\tSTART\tSTOP\tIN\tOUT\tDISCONNECT")
	for _, s := range list {
		stop, disc := "live", ""
		if !s.Live() {
			stop = s.Stop.Format(time.RFC3339)
		}
		if s.Disconnect != nil {
			disc = string(s.Disconnect.Outcome) + " (" + string(s.Disconnect.Reason) + ")"
		}
		ip := ""
		if s.IP.IsValid() {
			ip = s.IP.String()
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.ID, s.SIMID, s.IMSI, s.NAS, s.SessionID, ip,
			s.Start.Format(time.RFC3339), stop, s.InputOctets, s.OutputOctets, disc)
	}
	if next != 0 {
		fmt.Fprintf(tw, "(more: --after %d)\n", next)
	}
	return tw.Flush()
}
