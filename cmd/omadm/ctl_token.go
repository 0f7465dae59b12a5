package main

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
)

// ctlToken is `omadm ctl token create|list|revoke`: named API tokens
// (/api/v1/tokens). The server keeps only each token's SHA-256, so create
// prints the token this once.
func ctlToken(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Named API tokens: create (shown once), list, revoke"}
	create := &cobra.Command{Use: "create NAME", Short: "Create an API token and print it (the server keeps only its SHA-256)", Args: cobra.ExactArgs(1),
		Example: `  omadm ctl token create ci
  export OMADM_API_TOKEN=$(omadm ctl token create ci -o json | jq -r .token)`,
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.TokenRequest{Name: args[0]}
			if err := api.ValidateTokenRequest(&req); err != nil {
				return &usageError{err: err}
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			t, err := c.CreateToken(ctx, args[0])
			if err != nil {
				return err
			}
			if o.format("table") == "json" {
				return ctlPrintJSON(cmd.OutOrStdout(), t)
			}
			cmd.PrintErrln("The token is shown this once: keep it now (the server stores only its SHA-256).")
			return ctlTable(cmd.OutOrStdout(), []string{"ID", "NAME", "TOKEN"}, [][]string{{strconv.FormatInt(t.ID, 10), t.Name, t.Token}})
		}}
	var revoked bool
	list := &cobra.Command{Use: "list", Short: "List the named API tokens (never their plaintext)", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := o.client()
		if err != nil {
			return err
		}
		ctx, cancel := o.ctx(cmd)
		defer cancel()
		l, err := c.ListTokens(ctx, revoked)
		if err != nil {
			return err
		}
		if o.format("table") == "json" {
			return ctlPrintJSON(cmd.OutOrStdout(), l.Tokens)
		}
		rows := make([][]string, 0, len(l.Tokens))
		for _, t := range l.Tokens {
			state := "active"
			if t.RevokedAt != nil {
				state = "revoked " + ctlTime(t.RevokedAt)
			}
			name := t.Name
			if t.Current {
				name += " (this one)"
			}
			rows = append(rows, []string{strconv.FormatInt(t.ID, 10), name, t.Prefix + "…", ctlTime(&t.CreatedAt), ctlTime(t.LastUsedAt), state})
		}
		return ctlTable(cmd.OutOrStdout(), []string{"ID", "NAME", "PREFIX", "CREATED", "LAST USED", "STATE"}, rows)
	}}
	list.Flags().BoolVar(&revoked, "revoked", false, "list revoked tokens too")
	revoke := &cobra.Command{Use: "revoke NAME|ID", Short: "Revoke an API token: every server node refuses it from the next request on", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			t, err := c.RevokeToken(ctx, args[0])
			if err != nil {
				return err
			}
			if o.format("table") == "json" {
				return ctlPrintJSON(cmd.OutOrStdout(), t)
			}
			return ctlTable(cmd.OutOrStdout(), []string{"ID", "NAME", "REVOKED"}, [][]string{{strconv.FormatInt(t.ID, 10), t.Name, ctlTime(t.RevokedAt)}})
		}}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
