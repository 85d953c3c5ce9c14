package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

func tokenCommand() *command {
	return &command{name: "token", summary: "create, list and revoke API tokens", subs: []*command{
		{name: "create", summary: "create a token (its secret is shown once)", run: tokenCreate},
		{name: "list", summary: "list tokens", run: tokenList},
		{name: "delete", summary: "revoke a token", run: tokenDelete},
	}}
}

func tenantCommand() *command {
	return &command{name: "tenant", summary: "create and list tenants (provider admins)", subs: []*command{
		{name: "create", summary: "create a tenant", run: tenantCreate},
		{name: "list", summary: "list tenants", run: tenantList},
	}}
}

func tokenCreate(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "token create", "--name NAME --role ROLE [flags]",
		"Create an API token. Roles: admin (everything, tokens included), operator (change SIMs and\ngroups), auditor (read only), node (remote enforcement nodes; provider tenant only).")
	api := addAPIFlags(fs, env)
	name := fs.String("name", "", "a name saying who or what uses it, e.g. ops-laptop")
	role := fs.String("role", "", "admin, operator, auditor or node")
	tenant := fs.Int64("tenant", 0, "tenant ID (provider admins: make a token for another tenant)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" || *role == "" {
		return usageError{"give --name and --role"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	t, err := c.CreateToken(ctx, *name, simguard.Role(*role), *tenant)
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, t)
	}
	fmt.Fprintf(env.stdout, "token %d (%s, %s, tenant %d) created. Its secret, shown only now:\n%s\n", t.ID, t.Name, t.Role, t.TenantID, t.Secret)
	return nil
}

func tokenList(ctx context.Context, env *cliEnv, args []string) error {
	return runList(ctx, env, args, "token list", "List your tenant's tokens (admins only).", (*client.Client).Tokens, "ID\tNAME\tROLE\tCREATED",
		func(w io.Writer, t simguard.Token) {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Format(time.RFC3339))
		})
}

func tokenDelete(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "token delete", "ID [flags]", "Revoke a token; it stops working at once.")
	api := addAPIFlags(fs, env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the token's ID (see simguard token list)"}
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return usageError{"the token ID is a number"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	if err := c.DeleteToken(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "token %d revoked\n", id)
	return nil
}

func tenantCreate(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "tenant create", "NAME [flags]", "Create a tenant (a customer). Provider admins only.")
	api := addAPIFlags(fs, env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the tenant's name"}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	t, err := c.CreateTenant(ctx, pos[0])
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, t)
	}
	fmt.Fprintf(env.stdout, "tenant %s created with ID %d; make its first admin with:\n  simguard token create --tenant %d --name %s-admin --role admin\n", t.Name, t.ID, t.ID, t.Name)
	return nil
}

func tenantList(ctx context.Context, env *cliEnv, args []string) error {
	return runList(ctx, env, args, "tenant list", "List tenants.", (*client.Client).Tenants, "ID\tNAME\tCREATED",
		func(w io.Writer, t simguard.Tenant) {
			fmt.Fprintf(w, "%d\t%s\t%s\n", t.ID, t.Name, t.CreatedAt.Format(time.RFC3339))
		})
}
