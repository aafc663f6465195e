package dispatch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPlaces(t *testing.T) {
	ps := Places("我住在阳光花园三号楼二单元，楼下一直有人烧烤")
	require.Len(t, ps, 1)
	require.Equal(t, "阳光花园", ps[0].Name)
	require.Equal(t, 3, ps[0].Building)
	require.Equal(t, "阳光花园3号楼", ps[0].String())

	// a building said apart from the name goes to the site, not to a road
	ps = Places("解放路那边的东湖小区，我住五幢")
	require.Len(t, ps, 2)
	require.Equal(t, 0, ps[0].Building, ps[0].Name)
	require.Equal(t, 5, ps[1].Building, ps[1].Name)
	require.Empty(t, Places("你好我想咨询一下公积金"))
}
