package sqlstore

import (
	"database/sql"
	"io/fs"
	"strings"
)

// Dialect is what differs between the SQL databases the store runs on.
type Dialect struct {
	// Name is the goose dialect name ("mysql", "sqlite3").
	Name string
	// Migrations holds the dialect's versioned schema (see package schema).
	Migrations fs.FS
	// TxOptions are used for every transaction.
	TxOptions *sql.TxOptions
	// ForUpdate is appended to a SELECT that locks the rows it reads until the transaction ends; empty
	// where transactions are serialised anyway (SQLite's immediate transactions).
	ForUpdate string
	// SkipLocked is appended to a SELECT that locks the rows it reads and passes over rows another
	// transaction has locked (MySQL 8.0.1+, MariaDB 10.6+: FOR UPDATE SKIP LOCKED); empty where
	// transactions are serialised anyway.
	SkipLocked string
	// MergesIndexRanges says the planner reads "col1 < ? OR col2 > ?", each column the second of its
	// own index, as one merge of the index ranges (MySQL/MariaDB's index_merge sort_union), so one
	// SELECT with ORed conditions beats a UNION ALL of one SELECT per index (see firingORSQL).
	MergesIndexRanges bool
	// UpsertStyle says how to write INSERT … ON CONFLICT.
	UpsertStyle UpsertStyle
	// IsDuplicate reports whether err is a unique-key violation.
	IsDuplicate func(err error) bool
	// IsRetryable reports whether a transaction that failed with err may simply be run again (a
	// deadlock or lock timeout).
	IsRetryable func(err error) bool
}

// UpsertStyle selects the syntax for inserts that meet an existing key.
type UpsertStyle int

// The upsert syntaxes.
const (
	// OnDuplicateKey is MySQL/MariaDB: ON DUPLICATE KEY UPDATE col = VALUES(col). (MariaDB rejects the
	// MySQL 8 row alias, so VALUES() it is.)
	OnDuplicateKey UpsertStyle = iota
	// OnConflict is SQLite/PostgreSQL: ON CONFLICT (keys) DO UPDATE SET col = excluded.col.
	OnConflict
)

// onConflictDoNothing returns the clause that makes an INSERT skip rows whose key exists. anyCol is a
// column of the table (MySQL needs an assignment).
func (d Dialect) onConflictDoNothing(anyCol string) string {
	if d.UpsertStyle == OnDuplicateKey {
		return " ON DUPLICATE KEY UPDATE " + anyCol + " = " + anyCol
	}
	return " ON CONFLICT DO NOTHING"
}

// onConflictUpdate returns the clause that makes an INSERT meeting an existing keys update copied (taken
// from the inserted row) and set (literal assignments).
func (d Dialect) onConflictUpdate(keys string, copied []string, set ...string) string {
	assign := make([]string, 0, len(copied)+len(set))
	for _, c := range copied {
		if d.UpsertStyle == OnDuplicateKey {
			assign = append(assign, c+" = VALUES("+c+")")
		} else {
			assign = append(assign, c+" = excluded."+c)
		}
	}
	assign = append(assign, set...)
	if d.UpsertStyle == OnDuplicateKey {
		return " ON DUPLICATE KEY UPDATE " + strings.Join(assign, ", ")
	}
	return " ON CONFLICT (" + keys + ") DO UPDATE SET " + strings.Join(assign, ", ")
}

// placeholders returns "(?, ?, …)" groups for a multi-row VALUES list.
func placeholders(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}
