package asr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"lianxin/asr/internal/resample"
	"lianxin/asr/internal/wavfile"
	"lianxin/media"
)

// WaitWriter is implemented by streams that can take back-pressure: WriteWait queues a frame,
// waiting for room, so offline input (a file) reaches the engine whole and as fast as it
// decodes. Streams without it are fed in real time by TranscribeFile.
type WaitWriter interface {
	WriteWait(ctx context.Context, f media.Frame) error
}

// frameDur is the frame size of the live path (one RTP packet of G.711).
const frameDur = 20 * time.Millisecond

// TranscribeFile runs a WAV file (mono PCM16, or G.711 µ-law/A-law; any rate) through a
// stream of eng exactly as a live call leg: 20 ms frames, then Close to flush. Frames are
// resampled to cfg.SampleRate when set, else to 16 kHz (files above 8 kHz) or 8 kHz.
// emit receives every result in arrival order, on one goroutine.
func TranscribeFile(ctx context.Context, eng Engine, path string, cfg StreamConfig, emit func(Result)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	wr, err := wavfile.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 16000
		if wr.Rate <= 8000 {
			cfg.SampleRate = 8000
		}
	}
	var rs *resample.Resampler
	if wr.Rate != cfg.SampleRate {
		if rs, err = resample.New(wr.Rate, cfg.SampleRate); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	st, err := eng.NewStream(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range st.Results() {
			emit(r)
		}
	}()
	ferr := feed(ctx, st, wr, rs, cfg.SampleRate)
	cerr := st.Close()
	<-done
	if ferr != nil {
		return fmt.Errorf("%s: %w", path, ferr)
	}
	if cerr != nil {
		return fmt.Errorf("%s: %s: %w", path, eng.Name(), cerr)
	}
	return nil
}

// feed pushes the file as frames at the stream's pace (WaitWriter) or in real time.
func feed(ctx context.Context, st Stream, wr *wavfile.Reader, rs *resample.Resampler, rate int) error {
	ww, paced := st.(WaitWriter)
	var tick *time.Ticker
	if !paced {
		tick = time.NewTicker(frameDur)
		defer tick.Stop()
	}
	per := rate * int(frameDur/time.Millisecond) / 1000
	in := make([]int16, wr.Rate*int(frameDur/time.Millisecond)/1000)
	var pending []int16
	var off time.Duration
	write := func(samples []int16) error {
		fr := media.Frame{Samples: samples, Rate: rate, Offset: off}
		off += fr.Duration()
		if paced {
			return ww.WriteWait(ctx, fr)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tick.C:
		}
		return st.Write(fr)
	}
	for eof := false; !eof; {
		n, err := wr.Read(in)
		if errors.Is(err, io.EOF) {
			eof = true
		} else if err != nil {
			return err
		}
		chunk := in[:n]
		if rs != nil {
			chunk = rs.Process(chunk)
			if eof {
				chunk = append(chunk, rs.Flush()...)
			}
		}
		pending = append(pending, chunk...)
		for len(pending) >= per || (eof && len(pending) > 0) {
			k := min(per, len(pending))
			if err := write(append([]int16(nil), pending[:k]...)); err != nil {
				return err
			}
			pending = pending[k:]
		}
	}
	return nil
}
