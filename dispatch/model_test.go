package dispatch

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestModelRoundTrip(t *testing.T) {
	m, err := ParseModel(builtinModel)
	require.NoError(t, err)
	b, err := m.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, builtinModel, b, "saving a loaded model reproduces the file")
	path := filepath.Join(t.TempDir(), "m.model")
	require.NoError(t, m.Save(path))
	m2, err := LoadModel(path)
	require.NoError(t, err)
	tax, err := DefaultTaxonomy()
	require.NoError(t, err)
	c1, err := New(tax, m)
	require.NoError(t, err)
	c2, err := New(tax, m2)
	require.NoError(t, err)
	for _, text := range []string{"停水了", "the lift is stuck", "公积金"} {
		require.Equal(t, c1.Rank(text, 3), c2.Rank(text, 3))
	}
}

func TestCorruptModelRefused(t *testing.T) {
	good := builtinModel
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	garbage := []byte("LXDISPM1\x04\x00\x00\x00")
	garbage = binary.LittleEndian.AppendUint32(garbage, crc32.ChecksumIEEE([]byte("junk")))
	garbage = append(garbage, "junk"...)
	cases := map[string][]byte{
		"empty":          nil,
		"text file":      []byte("version: 1\ndepartments: []\n"),
		"truncated":      good[:len(good)-100],
		"flipped byte":   flipped,
		"valid checksum": garbage,
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseModel(b)
			require.ErrorIs(t, err, ErrCorruptModel)
			path := filepath.Join(t.TempDir(), "bad.model")
			require.NoError(t, os.WriteFile(path, b, 0o644))
			_, err = Load("", path)
			require.ErrorIs(t, err, ErrCorruptModel)
			require.Contains(t, err.Error(), path)
		})
	}
}

func TestModelLabelsMustBeInTaxonomy(t *testing.T) {
	m, err := ParseModel(builtinModel)
	require.NoError(t, err)
	tax, err := ParseTaxonomy([]byte("version: 1\ndepartments: [{id: water-supply, name: 水}, {id: power-supply, name: 电}]"))
	require.NoError(t, err)
	_, err = New(tax, m)
	require.ErrorContains(t, err, "not in the taxonomy")
}

func FuzzParseModel(f *testing.F) {
	f.Add(builtinModel[:64])
	f.Add([]byte("LXDISPM1"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseModel(b); err == nil {
			// Whatever parses must be usable.
			tax, terr := DefaultTaxonomy()
			if terr != nil {
				t.Fatal(terr)
			}
			if c, cerr := New(tax, m); cerr == nil {
				c.Rank("停水了", 3)
			}
		}
	})
}
