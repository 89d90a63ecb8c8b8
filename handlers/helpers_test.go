package handlers_test

import "portier/auth"

func hashOf(token string) string { return auth.HashToken(token) }
