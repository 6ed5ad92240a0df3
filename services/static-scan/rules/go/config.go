package main

import (
	"net/http"
	// ruleid: vigil-go-pprof-exposed
	_ "net/http/pprof"
	// ok: vigil-go-pprof-exposed
	_ "embed"
	// ok: vigil-go-pprof-exposed
	"runtime/pprof"
)

// ruleid: vigil-go-pprof-exposed
import debugpprof "net/http/pprof"

var _ = debugpprof.Index

func login(w http.ResponseWriter, r *http.Request) {
	// ruleid: vigil-go-insecure-cookie
	http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc", Path: "/"})
	// ruleid: vigil-go-insecure-cookie
	http.SetCookie(w, &http.Cookie{Name: "auth_token", Value: "abc", HttpOnly: true})
	// ok: vigil-go-insecure-cookie
	http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	// ok: vigil-go-insecure-cookie
	http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark"})
	pprof.StartCPUProfile(nil)
}

func withCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// ruleid: vigil-go-cors-wildcard-credentials
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		next.ServeHTTP(w, r)
	})
}

func withCORSChecked(next http.Handler, allowed map[string]bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); allowed[origin] {
			// ok: vigil-go-cors-wildcard-credentials
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
		}
		next.ServeHTTP(w, r)
	})
}

// ruleid: vigil-go-cors-wildcard-credentials
var apiCORS = cors.New(cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true})

// ok: vigil-go-cors-wildcard-credentials
var publicCORS = cors.New(cors.Options{AllowedOrigins: []string{"*"}})
