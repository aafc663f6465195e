package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Whatever a user types into the search box, the search either runs or is refused as a
// bad query, within its limits; the database never sees a query it cannot take.
func FuzzSearch(f *testing.F) {
	for _, seed := range []string{"噪音", "停水 花园小区", "a", "", "   ", "\x00", "\"", "' OR 1=1 --", "NEAR(a b)",
		"a* b^ c:d", strings.Repeat("x ", 9), strings.Repeat("漏", 201), "\xff\xfe"} {
		f.Add(seed)
	}
	s, _ := open(f)
	ctx := context.Background()
	if err := s.Write(ctx, Call{ID: "c1", OfferedAt: t0}, Utterance{CallID: "c1", Channel: "caller", UtteranceID: "caller-1",
		Text: "花园小区 停水 三天了", At: t0}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		terms, err := searchTerms(q)
		if err != nil {
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("searchTerms(%q): %v is not a bad query", q, err)
			}
		} else if len(terms) > MaxSearchTerms || utf8.RuneCountInString(q) > MaxSearchChars {
			t.Fatalf("searchTerms(%q) took %d terms", q, len(terms))
		}
		_, err = s.SearchUtterances(ctx, SearchQuery{Text: q})
		if err != nil && !errors.Is(err, ErrBadQuery) {
			t.Fatalf("search %q: %v", q, err)
		}
	})
}
