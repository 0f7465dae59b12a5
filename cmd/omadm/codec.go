package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/syncml"
)

// The decode and encode subcommands are tools for DM engineers: they turn a
// captured message (XML or WBXML, detected from its first bytes) into
// readable XML or JSON, or into the other encoding.

// readCodecInput reads FILE, or standard input for "-" or no argument, bounded
// by the default message size limit so a runaway pipe cannot exhaust memory.
func readCodecInput(cmd *cobra.Command, args []string) (name string, b []byte, err error) {
	name = "-"
	if len(args) > 0 {
		name = args[0]
	}
	var r io.Reader
	if name == "-" {
		r = cmd.InOrStdin()
		name = "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return name, nil, err
		}
		defer f.Close()
		r = f
	}
	b, err = io.ReadAll(io.LimitReader(r, syncml.DefaultMaxMessageSize+1))
	if err != nil {
		return name, nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > syncml.DefaultMaxMessageSize {
		return name, nil, fmt.Errorf("%s: input larger than %d bytes", name, syncml.DefaultMaxMessageSize)
	}
	return name, b, nil
}

// decodeInput decodes a message in either encoding; errors name the input
// and carry the decoder's byte offset and element.
func decodeInput(cmd *cobra.Command, args []string) (*syncml.Message, syncml.Encoding, error) {
	name, b, err := readCodecInput(cmd, args)
	if err != nil {
		return nil, 0, err
	}
	m, enc, err := syncml.Decode(b, "", nil)
	if err != nil {
		return nil, enc, fmt.Errorf("%s: not a valid %s DM message: %w", name, enc, err)
	}
	return m, enc, nil
}

// newDecodeCmd builds "omadm decode" afresh, so tests can run it in-process.
func newDecodeCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "decode [FILE|-] [--json]",
		Short: "Print a DM message (XML or WBXML) as indented XML or as JSON",
		Long: "decode reads a SyncML DM message from FILE or standard input, detects XML or WBXML\n" +
			"from its first bytes, and prints it as indented XML, or with --json as the JSON view\n" +
			"(commands as an ordered array). Malformed input exits non-zero with the byte offset\n" +
			"and element of the fault.",
		Args:          cobra.MaximumNArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, _, err := decodeInput(cmd, args)
			if err != nil {
				return err
			}
			var out []byte
			if asJSON {
				out, err = syncml.ToJSON(m)
			} else {
				out, err = syncml.EncodeXMLIndent(m)
			}
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the JSON view instead of XML")
	return cmd
}

// newEncodeCmd builds "omadm encode" afresh, so tests can run it in-process.
func newEncodeCmd() *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "encode --to wbxml|xml [FILE|-]",
		Short: "Re-encode a DM message (XML or WBXML) as WBXML or canonical XML on stdout",
		Long: "encode reads a SyncML DM message from FILE or standard input (XML or WBXML, detected\n" +
			"from its first bytes) and writes it to standard output in the encoding given by --to:\n" +
			"wbxml (binary) or xml (compact canonical form).",
		Args:          cobra.MaximumNArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			var enc syncml.Encoding
			switch to {
			case "wbxml":
				enc = syncml.EncodingWBXML
			case "xml":
				enc = syncml.EncodingXML
			default:
				return fmt.Errorf("--to %q: want wbxml or xml", to)
			}
			m, _, err := decodeInput(cmd, args)
			if err != nil {
				return err
			}
			out, err := syncml.Encode(m, enc)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "output encoding: wbxml or xml (required)")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
