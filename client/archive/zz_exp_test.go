package archive

import (
	"os"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

func TestZZExp(t *testing.T) {
	dir := os.Getenv("EXPDIR")
	if dir == "" {
		t.Skip()
	}
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, q := range []string{
		`SELECT id, start_wall, start_off, record FROM calls WHERE start_wall >= 1770768000 AND start_wall < 1770854400 ORDER BY start_wall, id`,
		`SELECT id, start_wall, start_off, record FROM calls WHERE (extension = '2002' OR peer = '2002') ORDER BY start_wall, id`,
		`SELECT id, start_wall, start_off, record FROM calls WHERE extension = '2002' ORDER BY start_wall, id`,
	} {
		began := time.Now()
		rows, err := a.db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var id string
			var w, o int64
			var b []byte
			rows.Scan(&id, &w, &o, &b)
			n++
		}
		rows.Close()
		t.Logf("%d rows %v: %.60s", n, time.Since(began), q)
		var plan string
		r2, _ := a.db.Query("EXPLAIN QUERY PLAN " + q)
		for r2.Next() {
			var x, y, z int
			r2.Scan(&x, &y, &z, &plan)
			t.Log("   ", plan)
		}
		r2.Close()
	}
	began := time.Now()
	n := 0
	a.Calls(ctx, cdr.Query{Extension: "2002"}, func(cdr.Record) error { n++; return nil })
	t.Logf("Calls ext: %d %v", n, time.Since(began))
}
