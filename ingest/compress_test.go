package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/goodhart-rl/goodhart/ingest"
)

func zst(b []byte) []byte {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		panic(err)
	}
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

var compressors = []struct {
	kind, ext string
	pack      func([]byte) []byte
}{{"gzip", ".gz", gz}, {"zstd", ".zst", zst}}

// Every text format reads the same through ReadFile plain, gzipped and
// zstd-compressed, small (under the 64 KiB sniff) and large (over it, and
// over one read-ahead buffer), whatever the file is called.
func TestCompressedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{20, 30000} {
		inputs := gzipInputs(n)
		formats := make([]string, 0, len(inputs))
		for f := range inputs {
			formats = append(formats, f)
		}
		sort.Strings(formats)
		for _, format := range formats {
			src := []byte(inputs[format])
			plain := filepath.Join(dir, fmt.Sprintf("%s-%d.log", format, n))
			if err := os.WriteFile(plain, src, 0o644); err != nil {
				t.Fatal(err)
			}
			want, err := ingest.ReadFile(plain, ingest.Options{})
			if err != nil || want.Len() != n || want.Format != format || len(want.Issues) != 0 {
				t.Fatalf("%s/%d plain: %v %+v", format, n, err, want)
			}
			for _, c := range compressors {
				for _, name := range []string{plain + c.ext, plain + ".bin"} {
					if err := os.WriteFile(name, c.pack(src), 0o644); err != nil {
						t.Fatal(err)
					}
					got, err := ingest.ReadFile(name, ingest.Options{})
					if err != nil {
						t.Errorf("%s: %v", name, err)
						continue
					}
					if d := sameRun(want, got); d != "" || got.Format != format || len(got.Issues) != 0 || got.Source != name {
						t.Errorf("%s: %s (format %s, issues %v)", name, d, got.Format, got.Issues)
					}
				}
			}
		}
	}
}

// One rule for every size and both codecs: a truncated stream keeps every
// complete record and adds one issue (an error under Strict); so do bytes
// after the end of a complete stream.
func TestZstdTruncatedAndTrailingOneRule(t *testing.T) {
	for _, n := range []int{20, 3000, 30000} {
		for format, src := range gzipInputs(n) {
			full := zst([]byte(src))
			for _, c := range []struct {
				what string
				data []byte
				min  int
			}{
				// zstd hands over a block (up to 128 KiB of text) only when
				// all of it has arrived: a cut loses the block it falls in,
				// and a small run is one block.
				{"truncated in the last block", full[:len(full)-4], 0},
				{"truncated mid-data", full[:len(full)*2/3], map[bool]int{true: 1}[n >= 30000]},
				{"cut in the frame header", full[:6], 0},
				{"trailing bytes", append(append([]byte(nil), full...), "junk after the end"...), n},
				{"trailing zero padding", append(append([]byte(nil), full...), make([]byte, 512)...), n},
			} {
				name := fmt.Sprintf("%s/%d/%s", format, n, c.what)
				run, err := ingest.Read(bytes.NewReader(c.data), "run.zst", ingest.Options{})
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if c.min > 0 && run.Format != format || run.Len() < c.min || run.Len() > n {
					t.Errorf("%s: format %s rows %d", name, run.Format, run.Len())
				}
				zIssues := 0
				for _, is := range run.Issues {
					if strings.Contains(is.Msg, "zstd") {
						zIssues++
					}
				}
				if zIssues != 1 || len(run.Issues) != 1 {
					t.Errorf("%s: %d zstd issues, want 1: %v", name, zIssues, run.Issues)
				}
				if _, err := ingest.Read(bytes.NewReader(c.data), "run.zst", ingest.Options{Strict: true}); !errors.Is(err, ingest.ErrStrict) {
					t.Errorf("%s: strict: %v", name, err)
				}
			}
		}
	}
}

// The issue says what happened, in words a user can act on.
func TestCompressedIssueText(t *testing.T) {
	src := []byte(gzipInputs(50)["rewardspy-jsonl"])
	for _, c := range compressors {
		full := c.pack(src)
		for _, cc := range []struct {
			data []byte
			want string
		}{
			{full[:len(full)-8], "unexpected EOF: " + c.kind + " stream is truncated; the records before it were kept"},
			{append(append([]byte(nil), full...), "junk after the end"...), "bytes after the end of the " + c.kind + " stream are not " + c.kind + " data (ignored)"},
		} {
			run, err := ingest.Read(bytes.NewReader(cc.data), "run"+c.ext, ingest.Options{})
			if err != nil || len(run.Issues) != 1 || !strings.Contains(run.Issues[0].Msg, cc.want) {
				t.Errorf("%s: %v %v, want an issue containing %q", c.kind, err, run.Issues, cc.want)
			}
		}
	}
}

// Several gzip members or zstd frames in a row (what `cat a.zst b.zst`
// makes) are one stream.
func TestCompressedConcatenated(t *testing.T) {
	in := gzipInputs(10)["csv"]
	head, rows, _ := strings.Cut(in, "\n")
	a := head + "\n" + rows
	b := strings.ReplaceAll(rows, ",0.", ",1.")
	for _, c := range compressors {
		data := append(c.pack([]byte(a)), c.pack([]byte(b))...)
		run, err := ingest.Read(bytes.NewReader(data), "run"+c.ext, ingest.Options{})
		if err != nil || run.Len() != 20 || len(run.Issues) != 0 {
			t.Errorf("%s: %v rows %d issues %v", c.kind, err, run.Len(), run.Issues)
		}
	}
}

// An empty .zst file is an empty run, as an empty plain file is; so is a
// zstd (or gzip) stream of no bytes.
func TestCompressedEmpty(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{"empty.zst": nil, "nothing.zst": zst(nil), "nothing.gz": gz(nil)} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		run, err := ingest.ReadFile(path, ingest.Options{})
		if err != nil || run.Len() != 0 || len(run.Issues) != 0 {
			t.Errorf("%s: %v %+v", name, err, run)
		}
	}
}

// Corrupt data inside a zstd frame (not a cut, not trailing bytes) is an
// error naming the file, never a panic or a hang.
func TestZstdCorruptIsAnError(t *testing.T) {
	src := []byte(gzipInputs(3000)["rewardspy-jsonl"])
	full := zst(src)
	for _, at := range []int{5, 12, len(full) / 2, len(full) - 3} {
		bad := append([]byte(nil), full...)
		bad[at] ^= 0xff
		run, err := ingest.Read(bytes.NewReader(bad), "bad.zst", ingest.Options{})
		if err != nil {
			if !strings.Contains(err.Error(), "bad.zst") {
				t.Errorf("flip at %d: error does not name the file: %v", at, err)
			}
			continue
		}
		// A flip the decoder cannot see (a frame header field it ignores)
		// may still read; it must then be consistent.
		if run.Len() > 3000 {
			t.Errorf("flip at %d: %d rows", at, run.Len())
		}
	}
}

// A reader that stops early (an error under Strict in the middle of a large
// compressed file) does not leave the decompressing goroutine behind.
func TestCompressedStopEarly(t *testing.T) {
	var b strings.Builder
	b.WriteString(gzipInputs(20000)["rewardspy-jsonl"])
	b.WriteString("not json\n")
	b.WriteString(gzipInputs(20000)["rewardspy-jsonl"])
	for _, c := range compressors {
		_, err := ingest.Read(bytes.NewReader(c.pack([]byte(b.String()))), "run"+c.ext, ingest.Options{Strict: true})
		if !errors.Is(err, ingest.ErrStrict) {
			t.Errorf("%s: %v", c.kind, err)
		}
	}
}

// Follow (show --follow) detects the format of a compressed file on its
// decompressed bytes.
func TestFollowCompressedOnce(t *testing.T) {
	dir := t.TempDir()
	src := []byte(gzipInputs(40)["rewardspy-jsonl"])
	for _, c := range compressors {
		path := filepath.Join(dir, "run.jsonl"+c.ext)
		if err := os.WriteFile(path, c.pack(src), 0o644); err != nil {
			t.Fatal(err)
		}
		rows := 0
		err := ingest.Follow(context.Background(), path, ingest.FollowOptions{Once: true}, func(e ingest.FollowEvent) error {
			if e.Kind == ingest.FollowRecords {
				rows += e.Run.Len()
			}
			return nil
		})
		if err != nil || rows != 40 {
			t.Errorf("%s: %v rows %d", c.kind, err, rows)
		}
	}
}

func FuzzZstd(f *testing.F) {
	for _, s := range []string{"{\"scalar_reward\":1.0}\n{\"scalar_reward\":2.0}\n", "step,reward\n1,2\n"} {
		b := zst([]byte(s))
		f.Add(b)
		f.Add(b[:len(b)-3])
		f.Add(append(b, 0, 0, 0))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, "")
	})
}

// Wherever the cut falls (mid-line, mid-number, in a trailer), a truncated
// stream of any text format gives exactly one issue: the cut line is never
// reported twice, nor read as a record with a number cut short.
func TestCompressedCutAnywhere(t *testing.T) {
	inputs := gzipInputs(300)
	for _, c := range compressors {
		for format, src := range inputs {
			want, err := ingest.Read(strings.NewReader(src), "run", ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			full := c.pack([]byte(src))
			for cut := len(full) - 80; cut < len(full); cut++ {
				run, err := ingest.Read(bytes.NewReader(full[:cut]), "run"+c.ext, ingest.Options{})
				if err != nil || len(run.Issues) != 1 || !strings.Contains(run.Issues[0].Msg, c.kind+" stream is truncated") {
					t.Errorf("%s %s cut at %d/%d: %v %v", c.kind, format, cut, len(full), err, run.Issues)
					continue
				}
				if run.Len() > 0 && run.Format == format {
					if d := sameRun(want.Slice(0, run.Len()), run); d != "" {
						t.Errorf("%s %s cut at %d/%d: kept rows differ from the plain file's: %s", c.kind, format, cut, len(full), d)
					}
				}
			}
		}
	}
}

// BenchmarkReadJSONLZstd reads the log of BenchmarkReadJSONL
// zstd-compressed (default level with the 2 MiB window of the zstd
// command's default, written once next to it). Run:
//
//	go test ./ingest -run '^$' -bench 'ReadJSONL' -benchtime 3x
func BenchmarkReadJSONLZstd(b *testing.B) {
	j, _ := benchFiles(b)
	path := j + ".zst"
	if _, err := os.Stat(path); err != nil {
		data, err := os.ReadFile(j)
		if err != nil {
			b.Fatal(err)
		}
		err = ingest.WriteFileAtomic(path, func(w io.Writer) error {
			zw, err := zstd.NewWriter(w, zstd.WithWindowSize(1<<21))
			if err != nil {
				return err
			}
			if _, err := zw.Write(data); err != nil {
				return err
			}
			return zw.Close()
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	benchRead(b, path)
}

// Output names choose the compression by their ending; what NewCompressWriter
// writes reads back as the same bytes.
func TestOutputCompression(t *testing.T) {
	for in, want := range map[string][2]string{
		"run.csv.gz": {"gzip", "run.csv"}, "run.JSONL.ZST": {"zstd", "run.JSONL"}, "run.parquet": {"", "run.parquet"}, "-": {"", "-"},
	} {
		if k, stem := ingest.OutputCompression(in); k != want[0] || stem != want[1] {
			t.Errorf("%s: %q %q, want %q", in, k, stem, want)
		}
	}
	src := gzipInputs(100)["csv"]
	for _, kind := range []string{"", "gzip", "zstd"} {
		var buf bytes.Buffer
		zw, err := ingest.NewCompressWriter(&buf, kind)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(zw, src)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		run, err := ingest.Read(&buf, "out", ingest.Options{})
		if err != nil || run.Len() != 100 || run.Format != "csv" {
			t.Errorf("%q: %v %+v", kind, err, run)
		}
	}
	if _, err := ingest.NewCompressWriter(io.Discard, "bzip2"); err == nil {
		t.Error("bzip2: no error")
	}
}
