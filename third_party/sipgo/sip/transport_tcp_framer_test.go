package sip

import "testing"

// lianxin: added, with transport_tcp_framer.go.
func TestStreamFramer(t *testing.T) {
	req := func(extra, body string) string {
		return "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n" + extra + "\r\n" + body
	}
	tests := []struct {
		name string
		in   string
		idle bool
		want []string // messages framed, in order
		left int      // bytes still buffered
	}{
		{"one whole", req("Content-Length: 4\r\n", "body"), false, []string{req("Content-Length: 4\r\n", "body")}, 0},
		{"compact length, two messages", req("l: 1\r\n", "a") + req("l: 0\r\n", ""), false,
			[]string{req("l: 1\r\n", "a"), req("l: 0\r\n", "")}, 0},
		{"keep-alive between", "\r\n\r\n" + req("l: 0\r\n", ""), false, []string{req("l: 0\r\n", "")}, 0},
		{"body still coming", req("l: 10\r\n", "abc"), false, nil, len(req("l: 10\r\n", "abc"))},
		{"body cut short, sender quiet", req("l: 10\r\n", "abc"), true, []string{req("l: 10\r\n", "abc")}, 0},
		{"headers still coming", "OPTIONS sip:a@b SIP/2.0\r\nCall-", false, nil, 30},
		{"no length, nothing after", req("", ""), false, []string{req("", "")}, 0},
		{"no length, next message after", req("", "") + req("l: 0\r\n", ""), false,
			[]string{req("", ""), req("l: 0\r\n", "")}, 0},
		{"no length, a body: wait", req("", "v=0\r\n"), false, nil, len(req("", "v=0\r\n"))},
		{"no length, a body, sender quiet", req("", "v=0\r\n"), true, []string{req("", "v=0\r\n")}, 0},
		{"two lengths: all of it", req("l: 1\r\nContent-Length: 3\r\n", "abcdef"), false,
			[]string{req("l: 1\r\nContent-Length: 3\r\n", "abcdef")}, 0},
		{"negative length: all of it", req("l: -1\r\n", "ab"), false, []string{req("l: -1\r\n", "ab")}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := streamFramer{buf: []byte(tt.in)}
			var got []string
			for m := f.next(tt.idle); m != nil; m = f.next(tt.idle) {
				got = append(got, string(m))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("framed %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("message %d: %q, want %q", i, got[i], tt.want[i])
				}
			}
			if len(f.buf) != tt.left {
				t.Fatalf("%d bytes left, want %d", len(f.buf), tt.left)
			}
		})
	}
}
