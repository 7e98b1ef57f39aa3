package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/scimd/scimd/api"
	"github.com/scimd/scimd/scim"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", env("SCIMD_ADDR", ":8080"), "listen address (env SCIMD_ADDR)")
	db := dbFlag(fs)
	publicURL := fs.String("public-url", env("SCIMD_PUBLIC_URL", ""), "how clients reach scimd, e.g. https://scim.example.com (env SCIMD_PUBLIC_URL; default derived from --addr)")
	retention := retentionFlag(fs)
	tlsCert := fs.String("tls-cert", env("SCIMD_TLS_CERT", ""), "serve HTTPS with this PEM certificate (chain) file (env SCIMD_TLS_CERT; needs --tls-key)")
	tlsKey := fs.String("tls-key", env("SCIMD_TLS_KEY", ""), "the PEM private key of --tls-cert (env SCIMD_TLS_KEY)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if *tlsCert != "" || *tlsKey != "" {
		if *tlsCert == "" || *tlsKey == "" {
			return errors.New("--tls-cert and --tls-key go together")
		}
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	st, err := openStore(ctx, *db, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			logger.Error("close database", "err", err)
		}
	}()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	root := strings.TrimRight(*publicURL, "/")
	if root == "" {
		scheme := "http://"
		if tlsConfig != nil {
			scheme = "https://"
		}
		root = scheme + displayAddr(ln.Addr())
	}
	base := root + api.Prefixes[0]

	// First start: no token yet. Create one and show it, once.
	tokens, err := st.ListTokens(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "scimd %s listening on %s\n", version, ln.Addr())
	fmt.Fprintf(stdout, "SCIM connector base URL: %s\n", base)
	if len(tokens) == 0 {
		secret, err := createToken(scim.WithActor(ctx, scim.Actor{Name: "first start", Kind: "system"}), st, "initial", 0, time.Now())
		switch {
		case err != nil && anyToken(ctx, st):
			// Another replica starting at the same time made it; it shows it.
		case err != nil:
			ln.Close()
			return err
		default:
			fmt.Fprintf(stdout, "SCIM bearer token (named \"initial\"; shown only this once, store it now):\n%s\n", secret)
			fmt.Fprintln(stdout, "Paste the base URL and the token into Okta (Provisioning › Integration: SCIM connector base URL, HTTP Header) or Entra ID (Provisioning › Admin Credentials: Tenant URL, Secret Token).")
		}
	}
	if err := firstAdmin(ctx, st, base, stdout); err != nil {
		ln.Close()
		return err
	}

	apiSrv := api.New(st, *publicURL, logger)
	mux := http.NewServeMux()
	apiSrv.Routes(mux)
	apiSrv.Audit = st
	console := mountConsole(mux, st, *publicURL, logger)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := st.Ping(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "database unavailable")
			return
		}
		fmt.Fprintln(w, "ok")
	})

	srv := &http.Server{
		Handler:           apiSrv.Middleware(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
	flushCtx, stopFlush := context.WithCancel(context.Background())
	flushed := make(chan struct{})
	go func() {
		apiSrv.RunTouchFlusher(flushCtx, 10*time.Second)
		close(flushed)
	}()
	go console.RunPruner(flushCtx, *retention, time.Hour)

	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- srv.ServeTLS(ln, "", "") // the certificate is in TLSConfig
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		stopFlush()
		<-flushed
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	stopFlush()
	<-flushed
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// displayAddr turns a listen address into one a client can use: a wildcard
// host becomes localhost.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// anyToken reports whether a token exists (after a failed first-start
// token: another replica may have made one at the same moment).
func anyToken(ctx context.Context, st scim.Tokens) bool {
	ts, err := st.ListTokens(ctx)
	return err == nil && len(ts) > 0
}
