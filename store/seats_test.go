package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A seat's auto-answer choice is its own, outlives a restart and can be turned off again.
func TestSeatSettingsPersist(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	got, err := s.SeatSettings(ctx, "seat-07")
	require.NoError(t, err)
	require.False(t, got.AutoAnswer, "a seat that saved nothing answers by hand")

	require.NoError(t, s.SaveSeatSettings(ctx, "seat-07", SeatSettings{AutoAnswer: true}, time.Now()))
	require.NoError(t, s.Close())
	s2, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s2.Close() })
	got, err = s2.SeatSettings(ctx, "seat-07")
	require.NoError(t, err)
	require.True(t, got.AutoAnswer)
	other, err := s2.SeatSettings(ctx, "seat-08")
	require.NoError(t, err)
	require.False(t, other.AutoAnswer, "one seat's setting is not another's")

	require.NoError(t, s2.SaveSeatSettings(ctx, "seat-07", SeatSettings{}, time.Now()))
	got, err = s2.SeatSettings(ctx, "seat-07")
	require.NoError(t, err)
	require.False(t, got.AutoAnswer)
}
