package ingest_test

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest"
)

func writeStr(t *testing.T, path, s string) {
	t.Helper()
	if err := ingest.WriteFileAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, s); return err }); err != nil {
		t.Fatal(err)
	}
}

func TestWriteFileAtomicModeUmaskSymlinkLeftovers(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)

	// New file: 0666 minus the umask.
	p := filepath.Join(dir, "new.csv")
	writeStr(t, p, "a")
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Errorf("new file mode %o, want 640", st.Mode().Perm())
	}
	// Existing file: its mode is kept.
	q := filepath.Join(dir, "private.csv")
	os.WriteFile(q, []byte("x"), 0o600)
	os.Chmod(q, 0o600)
	writeStr(t, q, "b")
	if st, _ := os.Stat(q); st.Mode().Perm() != 0o600 {
		t.Errorf("existing 0600 file became %o", st.Mode().Perm())
	}
	os.Chmod(q, 0o664)
	writeStr(t, q, "c")
	if st, _ := os.Stat(q); st.Mode().Perm() != 0o664 {
		t.Errorf("existing 0664 file became %o (umask must not cut it)", st.Mode().Perm())
	}
	// A symlink: the target is written, the link stays a link.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	tgt := filepath.Join(sub, "real.jsonl")
	os.WriteFile(tgt, []byte("old"), 0o644)
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink("sub/real.jsonl", link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	writeStr(t, link, "new")
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced by a regular file")
	}
	if b, _ := os.ReadFile(tgt); string(b) != "new" {
		t.Errorf("target holds %q", b)
	}
	// Leftovers of a killed write: old ones go, fresh ones and other
	// files stay.
	stale := filepath.Join(dir, ".new.csv.tmp-dead")
	fresh := filepath.Join(dir, ".new.csv.tmp-live")
	other := filepath.Join(dir, ".other.csv.tmp-dead")
	for _, f := range []string{stale, fresh, other} {
		os.WriteFile(f, []byte("partial"), 0o600)
	}
	long := time.Now().Add(-2 * ingest.StaleTempAge)
	os.Chtimes(stale, long, long)
	os.Chtimes(other, long, long)
	writeStr(t, p, "again")
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temporary file left in place")
	}
	for _, f := range []string{fresh, other} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s removed: %v", f, err)
		}
	}
	// A failed write leaves nothing and keeps the old content.
	err := ingest.WriteFileAtomic(p, func(w io.Writer) error { return io.ErrShortWrite })
	if err == nil {
		t.Fatal("want the write's error")
	}
	if b, _ := os.ReadFile(p); string(b) != "again" {
		t.Errorf("after a failed write: %q", b)
	}
	m, _ := filepath.Glob(filepath.Join(dir, ".new.csv.tmp-*"))
	if len(m) != 1 { // only the fresh one planted above
		t.Errorf("temporary files: %v", m)
	}
}
