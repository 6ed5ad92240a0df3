const express = require("express");
const fs = require("fs");
const path = require("path");
const axios = require("axios");
const escapeHtml = require("escape-html");

const app = express();
const UPLOADS = "/srv/uploads";
const ALLOWED_HOSTS = ["images.example.com"];

app.get("/download", (req, res) => {
  // ruleid: vigil-javascript-path-traversal
  fs.readFile(path.join(UPLOADS, req.query.file), (err, data) => res.send(data));
});

app.get("/files/:name", (req, res) => {
  // ruleid: vigil-javascript-path-traversal
  res.sendFile(UPLOADS + "/" + req.params.name);
});

app.get("/download-safe", (req, res) => {
  // ok: vigil-javascript-path-traversal
  fs.readFile(path.join(UPLOADS, path.basename(req.query.file)), (err, data) => res.send(data));
});

app.get("/files-safe/:name", (req, res) => {
  // ok: vigil-javascript-path-traversal
  res.sendFile(req.params.name, { root: UPLOADS });
});

app.get("/read-safe", (req, res) => {
  const full = path.resolve(UPLOADS, req.query.file);
  if (!full.startsWith(UPLOADS + path.sep)) {
    return res.status(400).end();
  }
  // ok: vigil-javascript-path-traversal
  fs.createReadStream(full).pipe(res);
});

app.get("/preview", async (req, res) => {
  // ruleid: vigil-javascript-ssrf
  const page = await axios.get(req.query.url);
  res.json(page.data);
});

app.post("/webhook-test", async (req, res) => {
  const { target } = req.body;
  // ruleid: vigil-javascript-ssrf
  const r = await fetch(`http://${target}/health`);
  res.json({ status: r.status });
});

app.get("/avatar/:user", async (req, res) => {
  // ok: vigil-javascript-ssrf
  const r = await fetch(`https://api.example.com/avatars/${encodeURIComponent(req.params.user)}`);
  res.json(await r.json());
});

app.get("/image", async (req, res) => {
  const url = new URL(req.query.url);
  if (!ALLOWED_HOSTS.includes(url.hostname)) {
    return res.status(400).end();
  }
  // ok: vigil-javascript-ssrf
  const r = await axios.get(url.toString());
  res.json(r.data);
});

app.get("/hello", (req, res) => {
  // ruleid: vigil-javascript-xss
  res.send("<h1>Hello " + req.query.name + "</h1>");
});

app.get("/search", (req, res) => {
  // ruleid: vigil-javascript-xss
  res.write(`<p>Results for ${req.query.q}</p>`);
  res.end();
});

app.get("/hello-safe", (req, res) => {
  // ok: vigil-javascript-xss
  res.send("<h1>Hello " + escapeHtml(req.query.name) + "</h1>");
});

app.get("/api/echo", (req, res) => {
  // ok: vigil-javascript-xss
  res.send({ query: req.query.q });
});

app.get("/login", (req, res) => {
  // ruleid: vigil-javascript-open-redirect
  res.redirect(req.query.next);
});

app.get("/out", (req, res) => {
  // ruleid: vigil-javascript-open-redirect
  res.redirect(302, "https://" + req.query.host);
});

app.get("/profile", (req, res) => {
  // ok: vigil-javascript-open-redirect
  res.redirect("/users/" + encodeURIComponent(req.query.id));
});

app.get("/back", (req, res) => {
  const next = req.query.next;
  if (next.startsWith("/") && !next.startsWith("//")) {
    // ok: vigil-javascript-open-redirect
    return res.redirect(next);
  }
  res.redirect("/");
});
