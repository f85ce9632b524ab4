package main

import (
	"fmt"
	"net/http"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/httpapi"
	"github.com/safesignal/safesignal/adapters/web"
	"go.uber.org/zap"
)

// withWebUI serves the web interface at / and /ui/ next to the API. The
// development sign-in (pick a role, get a token of the local issuer) is
// offered only when the local issuer is in use outside production mode;
// with --oidc-issuer, or in production, the sign-in page explains that the
// organisation's identity provider signs users in.
func withWebUI(cfg serveConfig, api *httpapi.Server, verifier auth.Verifier, logger *zap.Logger) (http.Handler, error) {
	opts := web.Options{API: api, Verifier: verifier, Logger: logger}
	if cfg.oidc.Issuer == "" && !cfg.production {
		issuer, err := auth.LoadOrCreateLocalIssuer(cfg.dataDir)
		if err != nil {
			return nil, fmt.Errorf("web UI: %w", err)
		}
		opts.Issuer = issuer
	}
	ui, err := web.New(opts)
	if err != nil {
		return nil, fmt.Errorf("web UI: %w", err)
	}
	return web.Compose(api, ui), nil
}
