// Package layout holds the page skeletons: the app shell with its navigation and the
// centred layout of the sign-in pages.
package layout

import "context"

type partialKey struct{}

// WithPartial marks ctx so that layouts render only their content (for htmx requests).
func WithPartial(ctx context.Context) context.Context {
	return context.WithValue(ctx, partialKey{}, true)
}

// IsPartial reports whether the layout should leave out the page around its content.
func IsPartial(ctx context.Context) bool {
	v, _ := ctx.Value(partialKey{}).(bool)
	return v
}

// NavItem is one entry of the left navigation.
type NavItem struct {
	Label  string // message key
	Href   string
	Icon   string // name of an icon in components.Icon
	Active bool
}

// App is what the app shell shows around every page of a signed-in login.
type App struct {
	Title       string
	AccountName string
	AccountKind string // message key
	LoginName   string
	LoginEmail  string
	Nav         []NavItem
	Flash       string
}
