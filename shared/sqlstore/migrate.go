package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Migrate applies the dialect's pending migrations to db. locker makes it safe when several processes
// start at once: one migrates while the others wait, then find nothing left to do.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, locker lock.Locker) error {
	p, err := goose.NewProvider(goose.Dialect(d.Name), db, d.Migrations, goose.WithLocker(locker))
	if err != nil {
		return fmt.Errorf("prepare %s migrations: %w", d.Name, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply %s migrations: %w", d.Name, err)
	}
	return nil
}
