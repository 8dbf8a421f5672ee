package cdr

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestQueryIsAValue: a Query compares with ==, so a caller can keep one as "what is loaded" and tell whether
// the next is the same; nothing in it is a callback.
func TestQueryIsAValue(t *testing.T) {
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	q := Query{From: day, To: day.AddDate(0, 0, 1), Extension: "2002", Extended: true}
	same := Query{From: day, To: day.AddDate(0, 0, 1), Extension: "2002", Extended: true}
	if q != same {
		t.Error("two equal queries differ")
	}
	for _, other := range []Query{{From: day}, {From: day, To: day.AddDate(0, 0, 2), Extension: "2002", Extended: true},
		{From: day, To: day.AddDate(0, 0, 1), Extended: true}, {Page: 1, Limit: 100}} {
		if q == other {
			t.Errorf("%+v equals %+v", q, other)
		}
	}
	var zero Query
	if zero != (Query{}) {
		t.Error("the zero query differs from a zero Query literal")
	}
}

// TestObserverInContext: an Observer travels in the context; without one, or with a field left nil, reports go
// nowhere and nothing panics.
func TestObserverInContext(t *testing.T) {
	var warned error
	var bytes int64
	ctx := WithObserver(context.Background(), Observer{OnWarn: func(err error) { warned = err }, OnProgress: func(n int64) { bytes = n }})
	o := ObserverFrom(ctx)
	o.Warn(errors.New("line 3: bad"))
	o.Progress(42)
	if warned == nil || warned.Error() != "line 3: bad" || bytes != 42 {
		t.Errorf("warned %v, bytes %d", warned, bytes)
	}
	ObserverFrom(context.Background()).Warn(errors.New("to nobody"))
	ObserverFrom(context.Background()).Progress(1)
	ObserverFrom(WithObserver(ctx, Observer{})).Warn(errors.New("replaced"))
	if warned.Error() != "line 3: bad" {
		t.Errorf("a replaced observer still heard %v", warned)
	}
}
