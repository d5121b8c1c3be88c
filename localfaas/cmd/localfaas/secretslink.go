package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// linkSecrets makes link (SECRETS_LINK, e.g. /var/openfaas/secrets, where OpenFaaS mounts a function's
// secrets) a symbolic link to the secrets folder dir, so that a process function reads its secrets
// where it would in a container, and sees an update at once (the store replaces a secret's file in
// dir). A link to dir already there is kept; any other file or folder at link is an error, never
// replaced. The parent folders are created.
func linkSecrets(link, dir string) error {
	target, err := os.Readlink(link)
	switch {
	case err == nil && filepath.Clean(target) == filepath.Clean(dir):
		return nil
	case err == nil:
		return fmt.Errorf("%s links to %s, not to the secrets folder %s: remove it or unset SECRETS_LINK", link, target, dir)
	case !errors.Is(err, fs.ErrNotExist):
		if _, serr := os.Lstat(link); serr == nil {
			return fmt.Errorf("%s exists and is not a link to the secrets folder %s: remove it or unset SECRETS_LINK", link, dir)
		}
		return fmt.Errorf("read link %s: %w", link, err)
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil { //nolint:gosec // G301: a folder of links, as /var/openfaas is
		return fmt.Errorf("create the folder of %s: %w", link, err)
	}
	if err := os.Symlink(dir, link); err != nil {
		return fmt.Errorf("link %s to %s: %w", link, dir, err)
	}
	return nil
}
