package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
)

var db *sql.DB

func users(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	// ruleid: vigil-go-sql-injection
	rows, _ := db.Query("SELECT * FROM users WHERE name = '" + name + "'")
	defer rows.Close()
	// ok: vigil-go-sql-injection
	rows2, _ := db.Query("SELECT * FROM users WHERE name = $1", name)
	defer rows2.Close()
}

func order(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	// ruleid: vigil-go-sql-injection
	db.ExecContext(r.Context(), fmt.Sprintf("DELETE FROM orders WHERE id = %s", id))
	n, _ := strconv.Atoi(id)
	// ok: vigil-go-sql-injection
	db.ExecContext(r.Context(), fmt.Sprintf("DELETE FROM orders WHERE id = %d", n))
}

func ping(w http.ResponseWriter, r *http.Request) {
	host := r.URL.Query().Get("host")
	// ruleid: vigil-go-command-injection
	out, _ := exec.Command("sh", "-c", "ping -c 1 "+host).Output()
	// ok: vigil-go-command-injection
	out2, _ := exec.Command("ping", "-c", "1", "--", host).Output()
	w.Write(append(out, out2...))
}

func tool(w http.ResponseWriter, r *http.Request) {
	// ruleid: vigil-go-command-injection
	cmd := exec.Command(r.PostFormValue("tool"), "--version")
	cmd.Run()
	// ok: vigil-go-command-injection
	exec.Command("git", "log", "--format=%H").Run()
}
