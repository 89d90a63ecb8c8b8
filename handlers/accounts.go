package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"portier/i18n"
	"portier/models"
	authviews "portier/views/auth"
)

// accountInput is the setup / sign-up form.
type accountInput struct {
	Kind        string `form:"kind"`
	AccountName string `form:"account_name"`
	Name        string `form:"name"`
	Email       string `form:"email"`
	Password    string `form:"password"`
}

// accountForm reads the setup / sign-up form; a form that cannot be read is an empty one,
// which the validation refuses field by field.
func accountForm(c echo.Context) models.NewAccount {
	var in accountInput
	_ = (&echo.DefaultBinder{}).BindBody(c, &in)
	kind, _ := models.ParseAccountKind(in.Kind)
	n := models.NewAccount{Kind: kind, AccountName: in.AccountName, Name: in.Name, Email: in.Email, Password: in.Password}
	n.Normalize()
	return n
}

func setupPage(n models.NewAccount, errs models.ValidationErrors, formErr string) authviews.AccountForm {
	return authviews.AccountForm{
		Kind: string(n.Kind), AccountName: n.AccountName, Name: n.Name, Email: n.Email,
		Errors: errs, FormError: formErr,
	}
}

func signupPage(n models.NewAccount, errs models.ValidationErrors, formErr string) authviews.AccountForm {
	p := setupPage(n, errs, formErr)
	p.Signup = true
	return p
}

// setupOpen reports whether first-run setup may still happen (no account exists).
func (h *Handler) setupOpen(c echo.Context) (bool, error) {
	n, err := h.Store.CountAccounts(c.Request().Context())
	return n == 0, err
}

// SetupShow is GET /setup: the first-run page, gone (404) once an account exists.
func (h *Handler) SetupShow(c echo.Context) error {
	open, err := h.setupOpen(c)
	if err != nil {
		return err
	}
	if !open {
		return echo.ErrNotFound
	}
	return render(c, http.StatusOK, authviews.AccountPage(setupPage(models.NewAccount{Kind: models.AccountWeb}, nil, "")))
}

// SetupCreate is POST /setup: creates the first account and signs its owner in.
func (h *Handler) SetupCreate(c echo.Context) error {
	open, err := h.setupOpen(c)
	if err != nil {
		return err
	}
	if !open {
		return echo.ErrNotFound
	}
	return h.createAccount(c, true, setupPage)
}

// SignupShow is GET /signup (only registered with --allow-signup).
func (h *Handler) SignupShow(c echo.Context) error {
	if open, err := h.setupOpen(c); err != nil || open {
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	return render(c, http.StatusOK, authviews.AccountPage(signupPage(models.NewAccount{Kind: models.AccountWeb}, nil, "")))
}

// SignupCreate is POST /signup.
func (h *Handler) SignupCreate(c echo.Context) error {
	return h.createAccount(c, false, signupPage)
}

func (h *Handler) createAccount(c echo.Context, firstRun bool, page func(models.NewAccount, models.ValidationErrors, string) authviews.AccountForm) error {
	rq := h.request(c)
	n := accountForm(c)
	n.Language = rq.Locale.Lang // the language the person set up in is the login's first choice
	_, login, err := h.App.CreateAccount(rq.Ctx, rq.Actor, n, passwordRepeat(c, "password_confirm"), firstRun)
	if errs, ok := formErrors(err, nil); ok {
		return render(c, http.StatusUnprocessableEntity, authviews.AccountPage(page(n, models.ValidationErrors(errs), "error.check_fields")))
	}
	if errors.Is(err, models.ErrSetupDone) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := h.startSession(c, login, false); err != nil {
		return err
	}
	if err := h.setFlash(c, loginLocale(login).T("setup.welcome", i18n.Args{"Name": n.AccountName})); err != nil {
		return err
	}
	return redirect(c, "/")
}
