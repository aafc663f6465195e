package g722

import (
	"testing"
	"time"
)

// packetsPerMinute is how many 20 ms packets one direction of a call carries in a minute.
const packetsPerMinute = 3000

// BenchmarkCodec measures one 20 ms packet (320 samples, 160 bytes) of speech and reports
// the CPU per call-minute of one direction:
// go test -run '^$' -bench Codec -benchtime 20000x ./media/g722
func BenchmarkCodec(b *testing.B) {
	speech := signals(b)["speech"]
	pkt, out := make([]byte, 160), make([]int16, 320)
	report := func(b *testing.B) {
		per := time.Duration(b.Elapsed().Nanoseconds() / int64(b.N))
		b.ReportMetric(float64(per*packetsPerMinute)/float64(time.Millisecond), "ms/call-minute")
	}
	b.Run("encode", func(b *testing.B) {
		enc := NewEncoder()
		for i := 0; b.Loop(); i++ {
			off := (i * 320) % (len(speech) - 320)
			enc.Encode(pkt, speech[off:off+320])
		}
		report(b)
	})
	codes := make([]byte, len(speech)/2)
	NewEncoder().Encode(codes, speech)
	b.Run("decode", func(b *testing.B) {
		dec := NewDecoder()
		for i := 0; b.Loop(); i++ {
			off := (i * 160) % (len(codes) - 160)
			dec.Decode(out, codes[off:off+160])
		}
		report(b)
	})
}
