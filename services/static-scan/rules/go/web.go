package main

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

const uploads = "/srv/uploads"

var allowedHosts = map[string]bool{"images.example.com": true}

func download(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("file")
	// ruleid: vigil-go-path-traversal
	data, _ := os.ReadFile(filepath.Join(uploads, name))
	w.Write(data)
}

func serve(w http.ResponseWriter, r *http.Request) {
	// ruleid: vigil-go-path-traversal
	http.ServeFile(w, r, uploads+"/"+r.PathValue("name"))
}

func downloadSafe(w http.ResponseWriter, r *http.Request) {
	name := filepath.Base(r.URL.Query().Get("file"))
	// ok: vigil-go-path-traversal
	data, _ := os.ReadFile(filepath.Join(uploads, name))
	w.Write(data)
}

func readSafe(w http.ResponseWriter, r *http.Request) {
	full := filepath.Join(uploads, filepath.Clean("/"+r.FormValue("file")))
	if !strings.HasPrefix(full, uploads+string(os.PathSeparator)) {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	// ok: vigil-go-path-traversal
	f, _ := os.Open(full)
	defer f.Close()
	io.Copy(w, f)
}

func preview(w http.ResponseWriter, r *http.Request) {
	// ruleid: vigil-go-ssrf
	resp, err := http.Get(r.URL.Query().Get("url"))
	if err == nil {
		defer resp.Body.Close()
	}
}

func hook(w http.ResponseWriter, r *http.Request) {
	target := r.FormValue("target")
	// ruleid: vigil-go-ssrf
	req, _ := http.NewRequest("POST", "http://"+target+"/hook", nil)
	http.DefaultClient.Do(req)
	// ok: vigil-go-ssrf
	req2, _ := http.NewRequest("GET", fmt.Sprintf("https://api.example.com/users/%s", target), nil)
	http.DefaultClient.Do(req2)
}

func image(w http.ResponseWriter, r *http.Request) {
	u := r.URL.Query().Get("url")
	host := hostOf(u)
	if !allowedHosts[host] {
		http.Error(w, "host not allowed", http.StatusBadRequest)
		return
	}
	// ok: vigil-go-ssrf
	resp, _ := http.Get(u)
	defer resp.Body.Close()
}

func viaClient(w http.ResponseWriter, r *http.Request) {
	// ruleid: vigil-go-ssrf
	resp, _ := http.DefaultClient.Get(r.FormValue("url"))
	defer resp.Body.Close()
	// ok: vigil-go-ssrf
	origin := r.Header.Get("Origin")
	// ok: vigil-go-ssrf
	page := r.URL.Query().Get("page")
	fmt.Println(origin, page)
}

func hello(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	// ruleid: vigil-go-xss
	fmt.Fprintf(w, "<h1>Hello %s</h1>", name)
	// ok: vigil-go-xss
	fmt.Fprintf(w, "<h1>Hello %s</h1>", html.EscapeString(name))
}

func comment(w http.ResponseWriter, r *http.Request) {
	// ruleid: vigil-go-xss
	io.WriteString(w, "<p>"+r.FormValue("comment")+"</p>")
	// ok: vigil-go-xss
	io.WriteString(w, "<p>Thanks!</p>")
	tpl := template.Must(template.New("c").Parse("<p>{{.}}</p>"))
	// ok: vigil-go-xss
	tpl.Execute(w, r.FormValue("comment"))
}

func login(w http.ResponseWriter, r *http.Request) {
	// ruleid: vigil-go-open-redirect
	http.Redirect(w, r, r.URL.Query().Get("next"), http.StatusFound)
}

func out(w http.ResponseWriter, r *http.Request) {
	next := r.FormValue("next")
	// ruleid: vigil-go-open-redirect
	http.Redirect(w, r, "https://"+next, http.StatusFound)
	// ok: vigil-go-open-redirect
	http.Redirect(w, r, "/users/"+next, http.StatusFound)
	if strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") {
		// ok: vigil-go-open-redirect
		http.Redirect(w, r, next, http.StatusFound)
	}
}

func page(w http.ResponseWriter, r *http.Request) {
	// ruleid: vigil-go-template-injection
	t, _ := template.New("page").Parse("<h1>" + r.FormValue("title") + "</h1>")
	t.Execute(w, nil)
	// ok: vigil-go-template-injection
	t2, _ := template.New("page").Parse("<h1>{{.}}</h1>")
	t2.Execute(w, r.FormValue("title"))
}

func mail(w http.ResponseWriter, r *http.Request) {
	body := r.PostFormValue("template")
	t := template.New("mail")
	// ruleid: vigil-go-template-injection
	t.Parse(body)
	t.Execute(w, nil)
	// ok: vigil-go-template-injection
	u, _ := url.Parse(body)
	fmt.Println(u)
}
