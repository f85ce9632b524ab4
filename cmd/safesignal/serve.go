package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/adapters/httpapi"
	lessonsvc "github.com/safesignal/safesignal/adapters/lessons"
	"github.com/safesignal/safesignal/adapters/metrics"
	"github.com/safesignal/safesignal/adapters/natsserver"
	"github.com/safesignal/safesignal/adapters/peersupport"
	"github.com/safesignal/safesignal/adapters/policies"
	"github.com/safesignal/safesignal/adapters/postgres"
	"github.com/safesignal/safesignal/adapters/trendsignals"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/lessons"
	peerread "github.com/safesignal/safesignal/projections/peersupport"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/detect"
	"go.uber.org/zap"
)

type serveConfig struct {
	httpAddr        string
	dataDir         string
	natsURL         string
	natsListen      string
	natsReplicas    int
	logLevel        string
	shutdownTimeout time.Duration
	rateLimit       float64
	rateBurst       int
	production      bool
	allowLocal      bool
	oidc            auth.OIDCConfig
	oidcRoleMap     string
	oidcClientID    string
	oidcSecret      string
	publicURL       string
	uiSessionTTL    time.Duration
	policiesFile    string
	databaseURL     string
	trendsK         int
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	var cfg serveConfig
	fs.StringVar(&cfg.httpAddr, "http-addr", fs.envOr("http-addr", ":8080"), "HTTP listen address ($SAFESIGNAL_HTTP_ADDR)")
	fs.StringVar(&cfg.dataDir, "data-dir", fs.envOr("data-dir", "./data"), "data directory: embedded NATS store, keys ($SAFESIGNAL_DATA_DIR)")
	fs.StringVar(&cfg.natsURL, "nats-url", fs.envOr("nats-url", ""), "NATS server URL; empty runs an embedded server ($SAFESIGNAL_NATS_URL)")
	fs.StringVar(&cfg.natsListen, "nats-listen", fs.envOr("nats-listen", "127.0.0.1:0"), "loopback address the embedded NATS listens on (port 0: any free port; empty: in-process only) ($SAFESIGNAL_NATS_LISTEN)")
	fs.StringVar(&cfg.logLevel, "log-level", fs.envOr("log-level", "info"), "log level: debug, info, warn, error ($SAFESIGNAL_LOG_LEVEL)")
	replicas := fs.Int("nats-replicas", 1, "replicas of every stream (3 on a NATS cluster)")
	shutdownTimeout := fs.Duration("shutdown-timeout", 20*time.Second, "how long a graceful shutdown may take")
	fs.StringVar(&cfg.oidc.Issuer, "oidc-issuer", fs.envOr("oidc-issuer", ""), "OpenID Connect issuer URL; empty uses the local development issuer ($SAFESIGNAL_OIDC_ISSUER)")
	fs.StringVar(&cfg.oidc.Audience, "oidc-audience", fs.envOr("oidc-audience", "safesignal"), "audience tokens must carry ($SAFESIGNAL_OIDC_AUDIENCE)")
	fs.StringVar(&cfg.oidc.Claims.Role, "oidc-role-claim", fs.envOr("oidc-role-claim", "role"), "claim (dotted path) holding the role(s) ($SAFESIGNAL_OIDC_ROLE_CLAIM)")
	fs.StringVar(&cfg.oidc.Claims.Organisation, "oidc-org-claim", fs.envOr("oidc-org-claim", "org"), "claim holding the organisation ($SAFESIGNAL_OIDC_ORG_CLAIM)")
	fs.StringVar(&cfg.oidc.Claims.Specialty, "oidc-specialty-claim", fs.envOr("oidc-specialty-claim", "specialty"), "claim holding the specialty ($SAFESIGNAL_OIDC_SPECIALTY_CLAIM)")
	fs.StringVar(&cfg.oidc.Claims.Region, "oidc-region-claim", fs.envOr("oidc-region-claim", "region"), "claim holding the region ($SAFESIGNAL_OIDC_REGION_CLAIM)")
	fs.StringVar(&cfg.oidcClientID, "oidc-client-id", fs.envOr("oidc-client-id", ""), "the web UI's client id at the provider; empty means --oidc-audience, and it must equal it ($SAFESIGNAL_OIDC_CLIENT_ID)")
	fs.StringVar(&cfg.oidcSecret, "oidc-client-secret", fs.envOr("oidc-client-secret", ""), "the web UI's client secret; empty for a public client using PKCE alone ($SAFESIGNAL_OIDC_CLIENT_SECRET)")
	fs.StringVar(&cfg.publicURL, "public-url", fs.envOr("public-url", ""), "URL browsers reach this server at, e.g. https://safesignal.example.org; with --oidc-issuer the UI signs users in at the provider and returns to <public-url>/ui/oidc/callback ($SAFESIGNAL_PUBLIC_URL)")
	uiSessionTTL := fs.Duration("ui-session-ttl", 8*time.Hour, "longest web UI session; an OIDC session also ends when its ID token expires")
	fs.StringVar(&cfg.oidcRoleMap, "oidc-role-map", fs.envOr("oidc-role-map", ""), "provider role values to Safesignal roles, e.g. 'ss-officer=safety_officer,ss-admin=admin' ($SAFESIGNAL_OIDC_ROLE_MAP)")
	fs.StringVar(&cfg.policiesFile, "policies-file", fs.envOr("policies-file", ""), "JSON file of escalation rules, reminders and webhooks; empty: none ($SAFESIGNAL_POLICIES_FILE)")
	fs.StringVar(&cfg.databaseURL, "database-url", fs.envOr("database-url", ""), "PostgreSQL URL for the read models; empty keeps them in memory, rebuilt at every start ($SAFESIGNAL_DATABASE_URL)")
	production := fs.Bool("production", false, "production mode: refuses the local development issuer")
	allowLocal := fs.Bool("allow-local-issuer", false, "in production mode, accept the local issuer anyway (single-node installations)")
	rateLimit := fs.Float64("rate-limit", 20, "requests per second one identity may make, sustained")
	rateBurst := fs.Int("rate-burst", 40, "requests one identity may make in a burst")
	trendsK := fs.Int("trends-k", trends.DefaultK, "disclosure threshold of the trend views: counts below it are never shown")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.shutdownTimeout = *shutdownTimeout
	cfg.uiSessionTTL = *uiSessionTTL
	cfg.rateLimit, cfg.rateBurst = *rateLimit, *rateBurst
	cfg.production, cfg.allowLocal = *production, *allowLocal
	cfg.trendsK = *trendsK
	roleMap, err := parseRoleMap(cfg.oidcRoleMap)
	if err != nil {
		return err
	}
	cfg.oidc.RoleMap = roleMap
	if cfg.oidcClientID == "" {
		cfg.oidcClientID = cfg.oidc.Audience
	}
	if cfg.oidc.Issuer != "" && cfg.oidcClientID != cfg.oidc.Audience {
		return usageError{"--oidc-client-id must equal --oidc-audience: the UI's session is the provider's ID token, which the API verifies against the audience"}
	}
	if cfg.uiSessionTTL < time.Minute {
		return usageError{"--ui-session-ttl must be at least 1m"}
	}
	if cfg.rateLimit <= 0 || cfg.rateBurst <= 0 {
		return usageError{"--rate-limit and --rate-burst must be positive"}
	}
	cfg.natsReplicas = *replicas
	if cfg.natsReplicas < 1 || cfg.natsReplicas > 5 {
		return usageError{"--nats-replicas must be from 1 to 5"}
	}
	if cfg.natsURL == "" && cfg.natsReplicas != 1 {
		return usageError{"--nats-replicas above 1 needs --nats-url (a cluster); the embedded server is one node"}
	}

	logger, err := newLogger(cfg.logLevel)
	if err != nil {
		return err
	}
	defer func() { _ = logger.Sync() }()
	if err := runServer(ctx, cfg, logger); err != nil {
		logger.Error("serve failed", zap.Error(err))
		return err
	}
	return nil
}

func runServer(ctx context.Context, cfg serveConfig, logger *zap.Logger) error {
	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.dataDir, syntheticMarker)); err == nil {
		logger.Warn("this data directory holds SYNTHETIC data made by safesignal seed; no signal in it is real", zap.String("dataDir", cfg.dataDir))
	}
	verifier, err := newVerifier(ctx, cfg, logger)
	if err != nil {
		return err
	}

	nc, closeNATS, err := connectNATS(cfg, logger)
	if err != nil {
		return err
	}
	defer closeNATS()

	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	storeCfg := eventstore.DefaultConfig()
	storeCfg.Replicas = cfg.natsReplicas
	log, err := eventstore.Open(ctx, js, storeCfg)
	if err != nil {
		return err
	}
	secret, err := auth.LoadOrCreateSecret(filepath.Join(cfg.dataDir, "secrets", "service.key"))
	if err != nil {
		return err
	}
	codec, err := projections.OpenCodec(ctx, js, secret, cfg.natsReplicas)
	if err != nil {
		return err
	}
	mx := metrics.New()
	cmds, err := commands.New(log, codec, commands.Options{Secret: secret, ObserveAppend: func(took time.Duration, conflict bool) {
		mx.AppendDuration.Observe(took.Seconds())
		if conflict {
			mx.AppendConflicts.Inc()
		}
	}})
	if err != nil {
		return err
	}
	trail, err := audit.Open(ctx, js, cfg.natsReplicas)
	if err != nil {
		return err
	}

	// Read models live in PostgreSQL when --database-url is set, else in
	// this process's memory, rebuilt from the log at every start. Either
	// way each replica follows the log through a durable consumer of its
	// own, which the server drops an hour after the process is gone.
	instance := instanceID()
	var (
		detail signaldetail.Store
		cube   trends.Store
		// Peer support and the lesson library (issue #6): requests and
		// lessons are aggregates of their own, each with a read model.
		peerRequests peerread.Store
		library      lessons.Store
		// prepare runs before the runner of the same name follows the log.
		prepare = map[string]func(context.Context) error{}
		pingDB  func(context.Context) error
	)
	if cfg.databaseURL == "" {
		detail, cube = signaldetail.NewMemory(), trends.NewMemory()
		peerRequests, library = peerread.NewMemory(), lessons.NewMemory()
	} else {
		pool, err := postgres.Connect(ctx, cfg.databaseURL)
		if err != nil {
			return err
		}
		defer pool.Close()
		applied, err := postgres.Migrate(ctx, pool)
		if err != nil {
			return err
		}
		for _, m := range applied {
			logger.Info("database migration applied", zap.Int64("version", m.Version), zap.String("name", m.Name))
		}
		store, err := postgres.OpenSignalDetail(ctx, pool)
		if err != nil {
			return err
		}
		trendStore, err := postgres.OpenTrends(ctx, pool)
		if err != nil {
			return err
		}
		peerStore, err := postgres.OpenPeerSupport(ctx, pool)
		if err != nil {
			return err
		}
		lessonStore, err := postgres.OpenLessons(ctx, pool)
		if err != nil {
			return err
		}
		detail, cube, pingDB = store, trendStore, pool.Ping
		peerRequests, library = peerStore, lessonStore
		// Tables built by another version of the code are rebuilt from
		// the log before the runner follows it, one store at a time: a
		// rebuild holds a connection for its lock and needs others for its
		// work, and concurrent ones could take the whole pool.
		var rebuilding sync.Mutex
		for _, s := range []rebuildableStore{store, trendStore, peerStore, lessonStore} {
			prepare[s.Name()] = func(ctx context.Context) error {
				rebuilding.Lock()
				defer rebuilding.Unlock()
				_, err := s.Rebuild(ctx, log, codec, postgres.RebuildOptions{Logger: logger})
				return err
			}
		}
		logger.Info("read models in PostgreSQL")
	}
	// Trend-signal detection keeps its state in memory and is rebuilt at
	// every start; what it raises goes to the log once (trendsignals).
	detector := detect.New(detect.Options{})
	var runners []*projections.Runner
	for _, p := range []projections.Projection{detail, cube, detector, peerRequests, library} {
		runners = append(runners, projections.NewRunner(log, codec, p, projections.RunnerOptions{
			ConsumerName: p.Name() + "_" + instance, InactiveThreshold: time.Hour, BatchSize: 500,
		}, logger))
	}

	runCtx, stopRunners := context.WithCancel(context.Background())
	defer stopRunners()
	var wg sync.WaitGroup
	runErr := make(chan error, len(runners)+1)
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if prepare := prepare[r.Name()]; prepare != nil {
				if err := prepare(runCtx); err != nil {
					if runCtx.Err() == nil {
						runErr <- err
					}
					return
				}
			}
			if err := r.Run(runCtx); err != nil {
				runErr <- err
			}
		}()
	}
	// Detected trend signals go to the log as TrendSignalDetected, once each.
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = trendsignals.New(log, codec, detector, logger).Run(runCtx, 30*time.Second)
	}()

	var policyConsumers []string
	if cfg.policiesFile != "" {
		pcfg, err := policies.LoadConfig(cfg.policiesFile)
		if err != nil {
			return err
		}
		reactions := &policies.Reactions{Commands: cmds, Codec: codec, Config: pcfg, Logger: logger}
		if len(pcfg.Webhooks) > 0 {
			reactions.Notifier = policies.NewWebhooks(pcfg.Webhooks, nil)
		}
		stream, err := js.Stream(ctx, storeCfg.Stream)
		if err != nil {
			return fmt.Errorf("event stream: %w", err)
		}
		handlers := reactions.Handlers()
		router, err := policies.NewRouter(ctx, js, stream, policies.RouterConfig{Replicas: cfg.natsReplicas, OnFailure: func(h string) { mx.PolicyFailures.WithLabelValues(h).Inc() }}, logger, handlers...)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := router.Run(runCtx); err != nil {
				runErr <- err
			}
		}()
		if reactions.Notifier != nil && (pcfg.Reminders.EscalationUnacknowledged.Duration > 0 || pcfg.Reminders.DeadlineAhead.Duration > 0) {
			sched, err := policies.NewScheduler(ctx, js, detail, reactions.Notifier, pcfg.Reminders, cfg.natsReplicas, logger)
			if err != nil {
				return err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = sched.Run(runCtx)
			}()
		}
		for _, h := range handlers {
			policyConsumers = append(policyConsumers, h.Name)
		}
		logger.Info("policies running", zap.Int("rules", len(pcfg.Rules)), zap.Int("webhooks", len(pcfg.Webhooks)))
	}

	progress := make([]metrics.Progress, len(runners))
	for i, r := range runners {
		progress[i] = r
	}
	mx.WatchProjections(progress...)
	mx.WatchJetStream(js, storeCfg.Stream, policies.PoisonStream, policyConsumers...)

	api := httpapi.New(httpapi.Deps{
		Metrics:  mx,
		Commands: cmds,
		Signals:  detail,
		Verifier: verifier,
		Audit:    trail,
		WaitFor: func(ctx context.Context, seq uint64) error {
			for _, r := range runners {
				if err := r.WaitFor(ctx, seq); err != nil {
					return err
				}
			}
			return nil
		},
		Ready: func(context.Context) error {
			if nc.Status() != nats.CONNECTED {
				return fmt.Errorf("NATS connection is %s", nc.Status())
			}
			if pingDB != nil {
				if err := pingDB(ctx); err != nil {
					return fmt.Errorf("PostgreSQL: %w", err)
				}
			}
			for _, r := range runners {
				if err := r.Err(); err != nil {
					return err
				}
				if !r.Ready() {
					return fmt.Errorf("projection %s is catching up (at sequence %d)", r.Name(), r.Position())
				}
			}
			return nil
		},
		Logger:    logger,
		RateLimit: httpapi.RateLimit{PerSecond: cfg.rateLimit, Burst: cfg.rateBurst},

		Trends: cube, TrendSignals: detector, TrendsK: cfg.trendsK,

		PeerSupport: peersupport.New(log, codec, nil), PeerRequests: peerRequests,

		Lessons: lessonsvc.New(log, codec, nil), LessonLibrary: library,
	})
	// Web UI (adapters/web, cmd/safesignal/webui.go): pages at / and /ui/
	// on the API's server, calling the API in-process.
	handler, err := withWebUI(ctx, cfg, api, verifier, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.httpAddr, err)
	}
	srv := httpapi.NewHTTPServer(cfg.httpAddr, handler)
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()
	logger.Info("safesignal serving", zap.String("http", "http://"+ln.Addr().String()), zap.String("dataDir", cfg.dataDir), zap.String("version", version))

	var result error
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-httpErr:
		result = fmt.Errorf("http server: %w", err)
	case err := <-runErr:
		result = err
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("http shutdown", zap.Error(err))
	}
	stopRunners()
	wg.Wait()
	return result
}

// connectNATS connects to --nats-url, or starts the embedded server.
func connectNATS(cfg serveConfig, logger *zap.Logger) (*nats.Conn, func(), error) {
	opts := []nats.Option{
		nats.Name("safesignal"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			logger.Warn("NATS disconnected", zap.Error(err))
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { logger.Info("NATS reconnected", zap.String("url", c.ConnectedUrlRedacted())) }),
	}
	if cfg.natsURL != "" {
		nc, err := nats.Connect(cfg.natsURL, opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("connect to NATS at %s: %w", cfg.natsURL, err)
		}
		return nc, func() { _ = nc.Drain() }, nil
	}
	ns, err := natsserver.Start(natsserver.Options{
		StoreDir:   filepath.Join(cfg.dataDir, "nats"),
		Listen:     cfg.natsListen,
		SyncAlways: true,
	})
	if err != nil {
		return nil, nil, err
	}
	nc, err := ns.Connect(opts...)
	if err != nil {
		ns.Shutdown()
		return nil, nil, err
	}
	logger.Info("embedded NATS started", zap.String("url", ns.ClientURL()), zap.Bool("syncAlways", true))
	return nc, func() {
		_ = nc.Drain()
		for nc.IsDraining() {
			time.Sleep(10 * time.Millisecond)
		}
		ns.Shutdown()
	}, nil
}

// newVerifier verifies tokens of the configured OpenID Connect provider, or
// of the local development issuer, which production mode refuses unless
// explicitly allowed.
func newVerifier(ctx context.Context, cfg serveConfig, logger *zap.Logger) (auth.Verifier, error) {
	if cfg.oidc.Issuer != "" {
		v, err := auth.NewOIDCVerifier(ctx, cfg.oidc)
		if err != nil {
			return nil, err
		}
		logger.Info("verifying tokens of an OpenID Connect provider", zap.String("issuer", cfg.oidc.Issuer))
		return v, nil
	}
	if cfg.production && !cfg.allowLocal {
		return nil, errors.New("production mode needs --oidc-issuer; the local development issuer is refused unless --allow-local-issuer is given")
	}
	issuer, err := auth.LoadOrCreateLocalIssuer(cfg.dataDir)
	if err != nil {
		return nil, err
	}
	logger.Warn("verifying tokens of the LOCAL DEVELOPMENT ISSUER (safesignal token); use --oidc-issuer in production")
	return issuer.Verifier(), nil
}

// parseRoleMap reads "value=role,value=role".
func parseRoleMap(s string) (map[string]auth.Role, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]auth.Role{}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || k == "" || !auth.Role(v).Valid() {
			return nil, usageError{fmt.Sprintf("--oidc-role-map: %q is not provider-value=role with a known role", pair)}
		}
		out[k] = auth.Role(v)
	}
	return out, nil
}

// rebuildableStore is a PostgreSQL read model that serve rebuilds when
// its tables were built by another version of the code.
type rebuildableStore interface {
	Name() string
	Rebuild(context.Context, projections.Log, *projections.Codec, postgres.RebuildOptions) (postgres.RebuildResult, error)
}

func instanceID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
