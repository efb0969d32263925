package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCmd writes the man pages, generated from the commands' own help, so they never
// disagree with --help (the packages ship them; make packages calls this).
func newManCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "man",
		Short: "Write the man pages (clusterdoctor.1, clusterdoctor-preflight.1, ...) to a directory",
		Example: `  clusterdoctor man --dir /usr/share/man/man1
  clusterdoctor man --dir /tmp/man && man /tmp/man/clusterdoctor-preflight.1`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return usage(fmt.Errorf("--dir %q: not a directory", dir))
			}
			root := c.Root()
			root.DisableAutoGenTag = true // the pages stay the same from build to build
			hdr := &doc.GenManHeader{Title: "CLUSTERDOCTOR", Section: "1", Source: "clusterdoctor " + buildVersion(), Manual: "clusterdoctor manual"}
			if err := doc.GenManTree(root, hdr, dir); err != nil {
				return incomplete(fmt.Errorf("write man pages: %w", err))
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", ".", "directory to write the pages to")
	return c
}
