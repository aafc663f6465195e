package testpeer

import (
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// WritePCMUPcap turns an 8 kHz mono PCM16 WAV into a pcap of 20 ms PCMU RTP packets, the
// input sipp's play_pcap_audio streams. It writes Ethernet/IPv4/UDP framing by hand:
// sipp only reads the UDP payload and timing, and no library here writes pcaps.
func WritePCMUPcap(wavPath, pcapPath string) (time.Duration, error) {
	return writePcap(wavPath, pcapPath, 0, g711.EncodeUlaw, 0)
}

// WritePCMAPcap is WritePCMUPcap for A-law (payload type 8).
func WritePCMAPcap(wavPath, pcapPath string) (time.Duration, error) {
	return writePcap(wavPath, pcapPath, 8, g711.EncodeAlaw, 0)
}

// WritePCMUPcapLossy is WritePCMUPcap with every nth packet missing, as a lossy path
// would deliver it: the sequence numbers and timestamps of the others are unchanged.
func WritePCMUPcapLossy(wavPath, pcapPath string, n int) (time.Duration, error) {
	return writePcapDropping(wavPath, pcapPath, 0, g711.EncodeUlaw, 0, n)
}

// ContinuePCMUPcap is WritePCMUPcap for a stream that goes on after one of `after` 20 ms
// packets from the same source: sequence numbers and timestamps carry on where those
// ended, as a phone's do across a re-INVITE (sipp replays each pcap as written).
func ContinuePCMUPcap(wavPath, pcapPath string, after int) (time.Duration, error) {
	return writePcap(wavPath, pcapPath, 0, g711.EncodeUlaw, after)
}

func writePcap(wavPath, pcapPath string, pt uint8, encode func([]byte) []byte, after int) (time.Duration, error) {
	return writePcapDropping(wavPath, pcapPath, pt, encode, after, 0)
}

func writePcapDropping(wavPath, pcapPath string, pt uint8, encode func([]byte) []byte, after, dropEvery int) (time.Duration, error) {
	pcm, err := ReadWAV8k(wavPath)
	if err != nil {
		return 0, err
	}
	f, err := os.Create(pcapPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // Ethernet
	if _, err := f.Write(hdr); err != nil {
		return 0, err
	}
	const spp = 160
	lin := make([]byte, spp*2)
	for i, seq := 0, uint16(1+after); i+spp <= len(pcm); i, seq = i+spp, seq+1 {
		for j := 0; j < spp; j++ {
			binary.LittleEndian.PutUint16(lin[2*j:], uint16(pcm[i+j]))
		}
		if dropEvery > 0 && int(seq)%dropEvery == 0 {
			continue
		}
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq,
			Timestamp: uint32(i + after*spp), SSRC: 0x1a2b3c4d, Marker: i == 0}, Payload: encode(lin)}
		payload, err := pkt.Marshal()
		if err != nil {
			return 0, err
		}
		if err := writeFrame(f, time.Duration(i)*time.Second/8000, payload); err != nil {
			return 0, err
		}
	}
	return time.Duration(len(pcm)) * time.Second / 8000, nil
}

func writeFrame(f *os.File, at time.Duration, payload []byte) error {
	udpLen := 8 + len(payload)
	ipLen := 20 + udpLen
	frame := make([]byte, 14+ipLen)
	binary.BigEndian.PutUint16(frame[12:], 0x0800)
	ip := frame[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen))
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 1})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], 5000)
	binary.BigEndian.PutUint16(udp[2:], 6000)
	binary.BigEndian.PutUint16(udp[4:], uint16(udpLen))
	copy(udp[8:], payload)
	rec := make([]byte, 16)
	binary.LittleEndian.PutUint32(rec[0:], uint32(at/time.Second))
	binary.LittleEndian.PutUint32(rec[4:], uint32(at%time.Second/time.Microsecond))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
	if _, err := f.Write(rec); err != nil {
		return err
	}
	_, err := f.Write(frame)
	return err
}

// ReadWAV8k reads an 8 kHz mono PCM16 WAV.
func ReadWAV8k(path string) ([]int16, error) {
	pcm, rate, ch, err := ReadWAV(path)
	if err != nil {
		return nil, err
	}
	if rate != 8000 || ch != 1 {
		return nil, fmt.Errorf("%s: want 8 kHz mono, got %d Hz %d channels", path, rate, ch)
	}
	return pcm, nil
}

// ReadWAV reads a PCM16 WAV: interleaved samples, rate and channel count. A WAV whose
// header was never finalised (the writer still running) reads as the data present.
func ReadWAV(path string) ([]int16, int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	d := wav.NewDecoder(f)
	buf, err := d.FullPCMBuffer()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	if d.BitDepth != 16 {
		return nil, 0, 0, fmt.Errorf("%s: %d-bit, want 16", path, d.BitDepth)
	}
	out := make([]int16, len(buf.Data))
	for i, v := range buf.Data {
		out[i] = int16(v)
	}
	return out, int(d.SampleRate), int(d.NumChans), nil
}

// WriteWAV writes interleaved PCM16 samples as a WAV.
func WriteWAV(path string, pcm []int16, rate, channels int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := wav.NewEncoder(f, rate, 16, channels, 1)
	data := make([]int, len(pcm))
	for i, v := range pcm {
		data[i] = int(v)
	}
	if err := enc.Write(&audio.IntBuffer{Data: data, Format: &audio.Format{NumChannels: channels, SampleRate: rate}, SourceBitDepth: 16}); err != nil {
		f.Close()
		return err
	}
	if err := enc.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
