// Package static embeds the stylesheet, scripts and icons and serves them under a URL that
// changes with their content, so browsers may cache them for good.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sort"
)

//go:embed css js icons
var Files embed.FS

// Version is a short hash of every embedded file; it is part of each static URL.
var Version = func() string {
	h := sha256.New()
	var paths []string
	_ = fs.WalkDir(Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	for _, p := range paths {
		b, _ := fs.ReadFile(Files, p)
		h.Write([]byte(p))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

// URL returns the cache-busting URL of an embedded file such as "css/app.css".
func URL(name string) string {
	return "/static/" + Version + "/" + name
}
