package detect

import (
	"embed"
	"io/fs"
)

//go:embed rules/*.yaml
var builtinFS embed.FS

// Builtin is the rules shipped with simguard. A user's rule of the same
// name, loaded after it, replaces it.
func Builtin() Source {
	sub, err := fs.Sub(builtinFS, "rules")
	if err != nil {
		panic(err) // the embedded folder is fixed at build time
	}
	return Source{Name: "builtin", FS: sub}
}
