package sqlstore_test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// The hot statements must be index look-ups, not scans, on every store. The checks read the plans
// the databases choose for a seeded store (a planner may scan a tiny table, so it is not tiny).

func TestSQLitePlansUseIndexes(t *testing.T) {
	s := storetest.OpenSQLite(t)
	seed(t, s.DB(), 2000, 5, 200, 20)
	if _, err := s.DB().Exec("ANALYZE"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []planCase[[]string]{
		firing("firing rules", s, priced, []string{
			"USING INDEX alert_rules_ticker_high (ticker=? AND high_value<?)", "USING INDEX alert_rules_ticker_low (ticker=? AND low_value>?)",
			"USING INDEX alert_rules_ticker_move_up (ticker=? AND move_up_level<?)", "USING INDEX alert_rules_ticker_move_down (ticker=? AND move_down_level>?)",
			"USING INDEX alert_rules_ticker_change (ticker=? AND kind=? AND percent<?)"}),
		firing("firing rules without a day change", s, unpriced, []string{
			"USING INDEX alert_rules_ticker_high (ticker=? AND high_value<?)", "USING INDEX alert_rules_ticker_move_down (ticker=? AND move_down_level>?)"}),
		rearm("re-arm", priced, []string{"SEARCH alert_rules USING INDEX alert_rules_ticker_"}),
		{"latest price", sqlstore.LatestPriceSQL, []any{"T0001"}, []string{"SEARCH prices USING PRIMARY KEY (ticker=?)"}},
		{"last N prices", sqlstore.AveragePriceSQL, []any{"T0001", "yahoo", 10}, []string{"SEARCH prices USING PRIMARY KEY (ticker=?)"}},
	} {
		plan := sqlitePlan(t, s.DB(), c.sql, c.args...)
		t.Logf("%s:\n%s", c.name, plan)
		for _, w := range c.want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan lacks %q:\n%s", c.name, w, plan)
			}
		}
		for _, bad := range []string{"SCAN s\n", "SCAN alert_rules", "SCAN prices", "TEMP B-TREE", "SCAN u\n"} {
			if strings.Contains(plan+"\n", bad) {
				t.Errorf("%s: plan has %q:\n%s", c.name, bad, plan)
			}
		}
	}
}

func sqlitePlan(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestMySQLPlansUseIndexes(t *testing.T) {
	s := storetest.OpenMySQL(t)
	seed(t, s.DB(), 2000, 5, 200, 20)
	for _, tbl := range []string{"users", "alert_rules", "prices"} {
		if _, err := s.DB().Exec("ANALYZE TABLE " + tbl); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []planCase[map[string][]string]{
		firing("firing rules", s, priced, map[string][]string{"s": {"alert_rules_ticker_high", "alert_rules_ticker_low",
			"alert_rules_ticker_move_up", "alert_rules_ticker_move_down", "alert_rules_ticker_change"}, "u": {"PRIMARY"}}),
		firing("firing rules without a day change", s, unpriced, map[string][]string{"s": {"alert_rules_ticker_high", "alert_rules_ticker_low",
			"alert_rules_ticker_move_up", "alert_rules_ticker_move_down"}, "u": {"PRIMARY"}}),
		rearm("re-arm", priced, map[string][]string{"alert_rules": {"alert_rules_ticker_high", "alert_rules_ticker_low",
			"alert_rules_ticker_move_up", "alert_rules_ticker_move_down", "alert_rules_ticker_change", "alert_rules_user"}}),
		{"latest price", sqlstore.LatestPriceSQL, []any{"T0001"}, map[string][]string{"prices": {"PRIMARY"}}},
		{"last N prices", sqlstore.AveragePriceSQL, []any{"T0001", "yahoo", 10}, map[string][]string{"prices": {"PRIMARY"}}},
	} {
		plan := mysqlPlan(t, s.DB(), c.sql, c.args...)
		t.Logf("%s: %+v", c.name, plan)
		seen := 0
		for _, row := range plan {
			keys, checked := c.want[row.table]
			if !checked {
				continue
			}
			if row.typ == "ALL" || row.typ == "index" {
				t.Errorf("%s: %s is scanned (type %s): %+v", c.name, row.table, row.typ, row)
			}
			if strings.HasPrefix(c.name, "firing") && row.table == "s" && row.typ != "index_merge" {
				t.Errorf("%s: s is not read as one merge of the conditions' index ranges (type %s): %+v", c.name, row.typ, row)
			}
			if !containsAll(keys, strings.Split(row.key, ",")) { // an index_merge names its keys, comma-separated
				t.Errorf("%s: %s uses key %q, want one of %v: %+v", c.name, row.table, row.key, keys, row)
			}
			if strings.Contains(row.extra, "filesort") {
				t.Errorf("%s: %s needs a sort: %+v", c.name, row.table, row)
			}
			seen++
		}
		if seen == 0 {
			t.Errorf("%s: the plan names none of the tables checked: %+v", c.name, plan)
		}
	}
}

type mysqlPlanRow struct{ table, typ, key, extra string }

func mysqlPlan(t *testing.T, db *sql.DB, q string, args ...any) []mysqlPlanRow {
	t.Helper()
	rows, err := db.Query("EXPLAIN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []mysqlPlanRow
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var r mysqlPlanRow
		for i, c := range cols {
			switch c {
			case "table":
				r.table = vals[i].String
			case "type":
				r.typ = vals[i].String
			case "key":
				r.key = vals[i].String
			case "Extra":
				r.extra = vals[i].String
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func containsAll(list []string, ss []string) bool {
	for _, s := range ss {
		if !slices.Contains(list, s) {
			return false
		}
	}
	return true
}

// planCase is one statement whose plan is checked; want is what the plan must show (SQLite: plan
// lines; MySQL: table → acceptable keys).
type planCase[W any] struct {
	name, sql string
	args      []any
	want      W
}

// A quote that moved 2 % on the day (every branch of the firing statement runs) and one without a
// previous close (the change_pct branch is left out).
var (
	priced   = stockalert.Quote{Ticker: "T0001", Price: 153, PreviousClose: 150, Time: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)}
	unpriced = stockalert.Quote{Ticker: "T0001", Price: 153, Time: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)}
)

func firing[W any](name string, s *sqlstore.Store, q stockalert.Quote, want W) planCase[W] {
	stmt, args := s.FiringStatement(q)
	return planCase[W]{name, stmt, args, want}
}

func rearm[W any](name string, q stockalert.Quote, want W) planCase[W] {
	stmt, args := sqlstore.RearmStatement(q)
	return planCase[W]{name, stmt, args, want}
}
