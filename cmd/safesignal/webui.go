package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/httpapi"
	"github.com/safesignal/safesignal/adapters/web"
	"go.uber.org/zap"
)

// withWebUI serves the web interface at / and /ui/ next to the API. The
// development sign-in (pick a role, get a token of the local issuer) is
// offered only when the local issuer is in use outside production mode;
// with --oidc-issuer and --public-url the sign-in page sends users to the
// organisation's identity provider (authorization code flow with PKCE).
func withWebUI(ctx context.Context, cfg serveConfig, api *httpapi.Server, verifier auth.Verifier, logger *zap.Logger) (http.Handler, error) {
	opts := web.Options{API: api, Verifier: verifier, Logger: logger, SessionTTL: cfg.uiSessionTTL}
	if cfg.oidc.Issuer != "" {
		if cfg.publicURL == "" {
			logger.Warn("no --public-url: the web UI cannot sign users in at the OIDC provider (the API still accepts its tokens)")
		} else {
			signIn, err := web.NewOIDCSignIn(ctx, web.OIDCSignInConfig{
				Issuer: cfg.oidc.Issuer, ClientID: cfg.oidcClientID, ClientSecret: cfg.oidcSecret,
				PublicURL: cfg.publicURL, HTTPClient: cfg.oidc.HTTPClient,
			})
			if err != nil {
				return nil, fmt.Errorf("web UI: %w", err)
			}
			opts.OIDC = signIn
			logger.Info("web UI signs users in at the OIDC provider", zap.String("redirect", strings.TrimSuffix(cfg.publicURL, "/")+"/ui/oidc/callback"))
		}
	}
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
