package ingest

import (
	"bufio"
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compressed input. A file is decompressed when it starts with the magic
// bytes of gzip (1F 8B) or Zstandard (28 B5 2F FD); its name does not
// matter. Decompression runs in its own goroutine, a few megabytes ahead of
// the parser, so that on two or more cores it costs little wall time.

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// compressionOf names the compression of an input from its first bytes:
// "gzip", "zstd", or "" for none.
func compressionOf(head []byte) string {
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return "gzip"
	case bytes.HasPrefix(head, zstdMagic):
		return "zstd"
	}
	return ""
}

// zstdMaxWindow is the largest Zstandard window accepted (128 MiB, the
// zstd command's own limit without --long=31): a corrupt or hostile header
// cannot make the reader allocate more.
const zstdMaxWindow = 1 << 27

// decompress returns the decompressed bytes of br when it starts with gzip
// or zstd magic bytes (kind "gzip" or "zstd"), and br itself otherwise
// (kind ""). The returned stop function must be called once the caller is
// done reading; it ends the read-ahead goroutine.
//
// Errors: a gzip header that cannot be parsed is an error naming the file.
// A stream that ends early (truncated), and bytes after the last complete
// gzip member or zstd frame that are not another one, end the data with an
// error that wraps io.ErrUnexpectedEOF and says which: the readers keep
// every complete record before it and report one issue. Any other corrupt
// data (bad checksum, invalid block) is a read error naming the file.
func decompress(br *bufio.Reader, name string) (r io.Reader, kind string, stop func(), err error) {
	head, _ := br.Peek(len(zstdMagic))
	kind = compressionOf(head)
	switch kind {
	case "gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				// The header itself is cut short: no records, one issue.
				return errorReader{fmt.Errorf("%s: %w: gzip stream is truncated", name, io.ErrUnexpectedEOF)}, kind, func() {}, nil
			}
			return nil, kind, nil, fmt.Errorf("%s: bad gzip header: %v", name, err)
		}
		ra := newReadAhead(&decompErrReader{r: zr, name: name, kind: kind}, zr.Close)
		return ra, kind, ra.stop, nil
	case "zstd":
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, kind, nil, fmt.Errorf("%s: zstd: %v", name, err)
		}
		ra := newReadAhead(&decompErrReader{r: zr, name: name, kind: kind}, func() error { zr.Close(); return nil })
		return ra, kind, ra.stop, nil
	}
	return br, "", func() {}, nil
}

// decompErrReader turns the end of a truncated stream, and bytes after the
// end of a complete stream that are not another gzip member or zstd frame
// (zero padding, a second file appended by mistake), into an error that
// wraps io.ErrUnexpectedEOF: readers report it as one issue on the last
// line and keep the records before it. Other decompression errors are
// prefixed with the file name.
type decompErrReader struct {
	r    io.Reader
	name string
	kind string // "gzip" or "zstd"
}

func (d *decompErrReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err == nil || err == io.EOF {
		return n, err
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = fmt.Errorf("%s: %w: %s stream is truncated", d.name, io.ErrUnexpectedEOF, d.kind)
	case d.kind == "gzip" && errors.Is(err, gzip.ErrHeader),
		d.kind == "zstd" && errors.Is(err, zstd.ErrMagicMismatch):
		err = fmt.Errorf("%s: %w: bytes after the end of the %s stream are not %s data (ignored)", d.name, io.ErrUnexpectedEOF, d.kind, d.kind)
	default:
		err = fmt.Errorf("%s: corrupt %s data: %v", d.name, d.kind, err)
	}
	return n, err
}

// readAheadBufs buffers of readAheadSize bytes are decompressed ahead of
// the reader: enough to keep a second core busy while the parser works on
// the previous buffer, small next to the run itself.
const (
	readAheadBufs = 4
	readAheadSize = 1 << 20
)

// readAhead reads its source in a goroutine into large buffers handed over
// through a channel, so decompression overlaps with parsing.
type readAhead struct {
	full   chan raChunk
	free   chan []byte
	done   chan struct{}
	cur    []byte // unread part of the current buffer
	buf    []byte // the current buffer, returned to free when used up
	err    error  // error that ended the source, returned after cur
	closed bool
}

type raChunk struct {
	b   []byte
	err error
}

// newReadAhead starts reading src. closeSrc is called by the goroutine
// once it stops reading (it owns src).
func newReadAhead(src io.Reader, closeSrc func() error) *readAhead {
	ra := &readAhead{
		full: make(chan raChunk, readAheadBufs),
		free: make(chan []byte, readAheadBufs),
		done: make(chan struct{}),
	}
	for i := 0; i < readAheadBufs; i++ {
		ra.free <- make([]byte, readAheadSize)
	}
	go ra.fill(src, closeSrc)
	return ra
}

func (ra *readAhead) fill(src io.Reader, closeSrc func() error) {
	defer closeSrc()
	for {
		var b []byte
		select {
		case b = <-ra.free:
		case <-ra.done:
			return
		}
		n := 0
		var err error
		for n < len(b) && err == nil {
			var k int
			k, err = src.Read(b[n:])
			n += k
		}
		select {
		case ra.full <- raChunk{b[:n], err}:
		case <-ra.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read copies decompressed bytes into p; after the last of them it returns
// the error that ended the source (io.EOF at a clean end).
func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.err != nil {
			return 0, ra.err
		}
		if ra.buf != nil {
			ra.free <- ra.buf[:cap(ra.buf)]
			ra.buf = nil
		}
		c := <-ra.full
		ra.buf, ra.cur, ra.err = c.b, c.b, c.err
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// stop ends the goroutine. A goroutine blocked reading a pipe that never
// ends stays blocked until it does; it holds no more than its buffers.
func (ra *readAhead) stop() {
	if !ra.closed {
		ra.closed = true
		close(ra.done)
	}
}

// sniffHead returns the first bytes of the decompressed data when head (the
// first bytes of a file) is gzip or zstd, as far as head holds them, and
// head itself otherwise. It is for format detection only: errors just
// shorten the result.
func sniffHead(head []byte) []byte {
	var zr io.Reader
	switch compressionOf(head) {
	case "gzip":
		g, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return nil
		}
		zr = g
	case "zstd":
		z, err := zstd.NewReader(bytes.NewReader(head), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil
		}
		defer z.Close()
		zr = z
	default:
		return head
	}
	out := make([]byte, SniffSize)
	n, _ := io.ReadFull(zr, out)
	return out[:n]
}

// OutputCompression reads the compression an output file name asks for
// from its ending (case-insensitive): ".gz" gives "gzip", ".zst" gives
// "zstd", anything else "". stem is path without that ending, for picking
// the output format (run.csv.zst -> run.csv).
func OutputCompression(path string) (kind, stem string) {
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".gz"):
		return "gzip", path[:len(path)-3]
	case strings.HasSuffix(lower, ".zst"):
		return "zstd", path[:len(path)-4]
	}
	return "", path
}

// NewCompressWriter compresses what is written to it into w: kind "gzip"
// (compress/gzip, default level) or "zstd" (Zstandard, default level, one
// frame). Close ends the stream; it does not close w. Kind "" returns a
// writer that passes bytes through unchanged; any other kind is an error.
func NewCompressWriter(w io.Writer, kind string) (io.WriteCloser, error) {
	switch kind {
	case "":
		return nopWriteCloser{w}, nil
	case "gzip":
		return stdgzip.NewWriter(w), nil
	case "zstd":
		return zstd.NewWriter(w)
	}
	return nil, fmt.Errorf("unknown compression %q (known: gzip, zstd)", kind)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
