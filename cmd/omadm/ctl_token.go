package main

import (
	"context"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
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
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			t, err := c.CreateToken(ctx, args[0])
			if err != nil {
				return err
			}
			return o.print(cmd, "table", t, func(w io.Writer) error {
				cmd.PrintErrln("The token is shown this once: keep it now (the server stores only its SHA-256).")
				return ctlTable(w, []string{"ID", "NAME", "TOKEN"}, [][]string{{strconv.FormatInt(t.ID, 10), t.Name, t.Token}})
			})
		}}
	var revoked bool
	list := &cobra.Command{Use: "list", Short: "List the named API tokens (never their plaintext)", Args: cobra.NoArgs,
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, _ []string) error {
			l, err := c.ListTokens(ctx, revoked)
			if err != nil {
				return err
			}
			return o.print(cmd, "table", l.Tokens, func(w io.Writer) error {
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
				return ctlTable(w, []string{"ID", "NAME", "PREFIX", "CREATED", "LAST USED", "STATE"}, rows)
			})
		})}
	list.Flags().BoolVar(&revoked, "revoked", false, "list revoked tokens too")
	revoke := &cobra.Command{Use: "revoke NAME|ID", Short: "Revoke an API token: every server node refuses it from the next request on", Args: cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			t, err := c.RevokeToken(ctx, args[0])
			if err != nil {
				return err
			}
			return o.print(cmd, "table", t, func(w io.Writer) error {
				return ctlTable(w, []string{"ID", "NAME", "REVOKED"}, [][]string{{strconv.FormatInt(t.ID, 10), t.Name, ctlTime(t.RevokedAt)}})
			})
		})}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
