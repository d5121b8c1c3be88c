// Package schema holds the database schema as versioned goose migrations, one folder per SQL dialect,
// embedded in every binary that opens a store. Times are stored as BIGINT milliseconds since the Unix
// epoch (UTC) so both dialects compare and index them the same way.
package schema

import (
	"embed"
	"io/fs"
)

//go:embed mysql/*.sql sqlite/*.sql
var files embed.FS

// MySQL returns the migrations for MySQL and MariaDB.
func MySQL() fs.FS { return sub("mysql") }

// SQLite returns the migrations for SQLite.
func SQLite() fs.FS { return sub("sqlite") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the directory is embedded at compile time
	}
	return f
}
