package main

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	mrand "math/rand"
	"net/http"

	"github.com/golang-jwt/jwt/v5"
)

func client() *http.Client {
	// ruleid: vigil-go-tls-insecure-skip-verify
	cfg := &tls.Config{InsecureSkipVerify: true}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
}

func clientSafe() *http.Client {
	// ok: vigil-go-tls-insecure-skip-verify
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
}

func clientDev(cfg *tls.Config, dev bool) {
	// ruleid: vigil-go-tls-insecure-skip-verify
	cfg.InsecureSkipVerify = true
	// ok: vigil-go-tls-insecure-skip-verify
	cfg.InsecureSkipVerify = false
}

func hashPassword(password string) string {
	// ruleid: vigil-go-weak-password-hash
	sum := md5.Sum([]byte(password))
	return hex.EncodeToString(sum[:])
}

func hashPin(userPassword string) string {
	h := md5.New()
	// ruleid: vigil-go-weak-password-hash
	h.Write([]byte(userPassword))
	return hex.EncodeToString(h.Sum(nil))
}

func etag(body []byte) string {
	// ok: vigil-go-weak-password-hash
	sum := md5.Sum(body)
	return hex.EncodeToString(sum[:])
}

func digest(body []byte) string {
	// ok: vigil-go-weak-password-hash
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

func newSessionToken() string {
	b := make([]byte, 16)
	for i := range b {
		// ruleid: vigil-go-insecure-random
		b[i] = byte(mrand.Intn(256))
	}
	return hex.EncodeToString(b)
}

func resetCode() int {
	// ruleid: vigil-go-insecure-random
	otp := mrand.Intn(1000000)
	return otp
}

func jitter() int {
	// ok: vigil-go-insecure-random
	delay := mrand.Intn(100)
	return delay
}

func newAPIKey() string {
	b := make([]byte, 32)
	// ok: vigil-go-insecure-random
	rand.Read(b)
	return hex.EncodeToString(b)
}

func claims(token string) jwt.MapClaims {
	c := jwt.MapClaims{}
	// ruleid: vigil-go-jwt-unverified
	jwt.NewParser().ParseUnverified(token, c)
	return c
}

func noneAllowed(token string) (*jwt.Token, error) {
	return jwt.Parse(token, func(t *jwt.Token) (interface{}, error) {
		// ruleid: vigil-go-jwt-unverified
		return jwt.UnsafeAllowNoneSignatureType, nil
	})
}

func verified(token string, key []byte) (*jwt.Token, error) {
	// ok: vigil-go-jwt-unverified
	return jwt.Parse(token, func(t *jwt.Token) (interface{}, error) { return key, nil },
		jwt.WithValidMethods([]string{"HS256"}))
}

func verifiedClaims(token string, key []byte) (*jwt.Token, error) {
	// ok: vigil-go-jwt-unverified
	return jwt.ParseWithClaims(token, &jwt.RegisteredClaims{}, func(t *jwt.Token) (interface{}, error) { return key, nil })
}
