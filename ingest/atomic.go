package ingest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StaleTempAge is how old a leftover temporary file of WriteFileAtomic must
// be before a later write to the same path removes it.
const StaleTempAge = 10 * time.Minute

// WriteFileAtomic writes a file through write, into a temporary file in the
// same directory that is renamed over path only when write and the final
// flush, sync and close all succeed. On any error the temporary file is
// removed and path is left as it was.
//
// The rules:
//   - Mode: an existing file keeps its permission bits (a 0600 file stays
//     0600); a new file gets 0666 minus the process umask, as os.Create
//     gives.
//   - Symlinks: when path is a symbolic link, the file it points to is
//     replaced (through the same temporary-file-and-rename in the target's
//     directory) and the link is left in place.
//   - Leftovers: a process killed mid-write (kill -9) leaves its temporary
//     file, named .NAME.tmp-RANDOM beside the target. Each call removes
//     such files for the same NAME that are older than StaleTempAge (so a
//     write still in progress elsewhere is not disturbed); nothing else in
//     the directory is touched.
func WriteFileAtomic(path string, write func(w io.Writer) error) (err error) {
	target, err := resolveLink(path)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	dir, base := filepath.Dir(target), filepath.Base(target)
	prefix := "." + base + ".tmp-"
	removeStaleTemps(dir, prefix)

	mode := fs.FileMode(0o666) // the umask applies at creation
	keepMode := false
	if st, err := os.Stat(target); err == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("cannot write %s: not a regular file", path)
		}
		mode, keepMode = st.Mode().Perm(), true
	}
	var f *os.File
	var tmp string
	for try := 0; ; try++ {
		var rnd [6]byte
		rand.Read(rnd[:])
		tmp = filepath.Join(dir, prefix+hex.EncodeToString(rnd[:]))
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || try > 10 {
			return fmt.Errorf("cannot write %s: %w", path, err)
		}
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = write(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if keepMode {
		// The umask may have cut bits the existing file has.
		if err = f.Chmod(mode); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp, target); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// resolveLink follows path while it is a symbolic link (at most 40 hops,
// like the kernel) and returns the file it names, which need not exist yet.
func resolveLink(path string) (string, error) {
	for hops := 0; hops < 40; hops++ {
		st, err := os.Lstat(path)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", errors.New("too many levels of symbolic links")
}

// removeStaleTemps removes dir/prefix* regular files older than
// StaleTempAge (leftovers of killed writes). Errors are ignored: cleaning
// up is a courtesy, never a reason to fail the write.
func removeStaleTemps(dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || !e.Type().IsRegular() {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > StaleTempAge {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
