package models

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTokenStatus(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	assert.Equal(t, TokenActive, APIToken{}.Status(now))
	assert.Equal(t, TokenActive, APIToken{ExpiresAt: &future}.Status(now))
	assert.Equal(t, TokenExpired, APIToken{ExpiresAt: &now}.Status(now), "expired at the instant it names")
	assert.Equal(t, TokenExpired, APIToken{ExpiresAt: &past}.Status(now))
	assert.Equal(t, TokenRevoked, APIToken{ExpiresAt: &past, RevokedAt: &past}.Status(now))
	for _, tok := range []APIToken{{}, {ExpiresAt: &future}, {ExpiresAt: &now}, {RevokedAt: &past}} {
		assert.Equal(t, tok.Usable(now), tok.Status(now) == TokenActive, "Status agrees with Usable")
	}
}

func TestScopesLacking(t *testing.T) {
	t.Parallel()
	all := Scopes(AllScopes)
	assert.Empty(t, all.Lacking(RightsAll))
	assert.Equal(t, Scopes{ScopeNotification, ScopeSmartlockLog}, all.Lacking(RightsAll&^RightActivityLog))
	assert.Equal(t, Scopes{ScopeNotification, ScopeSmartlock, ScopeSmartlockAction, ScopeSmartlockAuth, ScopeSmartlockConfig, ScopeSmartlockLog, ScopeSmartlockCreate},
		all.Lacking(0), "account and smartlock.readOnly need no right")
	for r := Rights(0); r <= RightsAll; r++ {
		assert.Equal(t, CheckScopesWithin(all, r) == nil, len(all.Lacking(r)) == 0, "rights %d", r)
	}
}

func TestCanManageToken(t *testing.T) {
	t.Parallel()
	main := Login{ID: 1, AccountID: 7, IsMain: true}
	admin := Login{ID: 2, AccountID: 7, Rights: RightsAll}
	manager := Login{ID: 3, AccountID: 7, Rights: RightRightsManagement | RightActivityLog}
	logReader := Login{ID: 4, AccountID: 7, Rights: RightActivityLog}
	operator := Login{ID: 5, AccountID: 7, Rights: RightOperateDevices}
	stranger := Login{ID: 9, AccountID: 8, IsMain: true}
	accountUser := int64(3)
	webKey := Login{ID: 6, AccountID: 7, AccountUserID: &accountUser}
	for _, tc := range []struct {
		actor, creator Login
		want           bool
	}{
		{main, main, true}, {main, admin, true}, {main, operator, true},
		{admin, admin, true}, {admin, manager, true}, {admin, main, false},
		{manager, manager, true}, {manager, logReader, true}, {manager, operator, false}, {manager, admin, false}, {manager, main, false},
		{logReader, logReader, false}, // no rights management: not even its own
		{stranger, main, false}, {main, stranger, false},
		{webKey, webKey, false},
	} {
		assert.Equal(t, tc.want, CanManageToken(tc.actor, tc.creator), "actor %d, creator %d", tc.actor.ID, tc.creator.ID)
	}
}

func TestValidateAPIDescriptionAndRedirectURI(t *testing.T) {
	t.Parallel()
	assert.Empty(t, ValidateAPIDescription(""))
	assert.Empty(t, ValidateAPIDescription(strings.Repeat("ü", APIDescriptionMax)))
	assert.Equal(t, "tokens.err_description_long", ValidateAPIDescription(strings.Repeat("x", APIDescriptionMax+1)))
	assert.Equal(t, "tokens.err_description_control", ValidateAPIDescription("a\nb"))

	for _, ok := range []string{"https://example.com/cb", "http://localhost:8123/auth/external/callback", "com.example.app:/oauth2redirect", "myapp:callback"} {
		assert.NoError(t, ValidateRedirectURI(ok), ok)
	}
	for _, bad := range []string{"", "/relative", "example.com/cb", "https://example.com/cb#x", "https://exa mple.com/", "http:", "https://example.com/" + strings.Repeat("a", RedirectURIMax)} {
		assert.Error(t, ValidateRedirectURI(bad), bad)
	}
}
