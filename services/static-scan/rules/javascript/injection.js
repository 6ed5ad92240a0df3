const express = require("express");
const { exec, execFile } = require("child_process");
const vm = require("vm");
const cp = require("child_process");
const mysql = require("mysql2");
const axios = require("axios");
const User = require("./models/user");

const app = express();
const db = mysql.createConnection({});

app.get("/users", (req, res) => {
  const name = req.query.name;
  // ruleid: vigil-javascript-sql-injection
  db.query("SELECT * FROM users WHERE name = '" + name + "'", (err, rows) => res.json(rows));
  // ok: vigil-javascript-sql-injection
  db.query("SELECT * FROM users WHERE name = ?", [name], (err, rows) => res.json(rows));
});

app.get("/orders/:id", async (req, res) => {
  // ruleid: vigil-javascript-sql-injection
  const [rows] = await db.execute(`SELECT * FROM orders WHERE id = ${req.params.id}`);
  // ok: vigil-javascript-sql-injection
  const [more] = await db.execute(`SELECT * FROM orders WHERE id = ${parseInt(req.params.id, 10)}`);
  res.json([rows, more]);
});

app.post("/login", async (req, res) => {
  // ruleid: vigil-javascript-nosql-injection
  const user = await User.findOne({ email: req.body.email, password: req.body.password });
  // ok: vigil-javascript-nosql-injection
  const same = await User.findOne({ email: String(req.body.email) });
  res.json({ ok: !!user && !!same });
});

app.get("/search", async (req, res) => {
  const q = req.query;
  // ruleid: vigil-javascript-nosql-injection
  const found = await User.find(q);
  // ok: vigil-javascript-nosql-injection
  const all = await User.find({ active: true });
  res.json([found, all]);
});

app.get("/ping", (req, res) => {
  // ruleid: vigil-javascript-command-injection
  exec("ping -c 1 " + req.query.host, (err, out) => res.send(out));
  // ok: vigil-javascript-command-injection
  execFile("ping", ["-c", "1", req.query.host], (err, out) => res.send(out));
});

app.post("/convert", (req, res) => {
  const { file } = req.body;
  // ruleid: vigil-javascript-command-injection
  cp.execSync(`convert ${file} out.png`);
  // ok: vigil-javascript-command-injection
  cp.execSync("convert in.png out.png");
  res.end();
});

app.post("/calc", (req, res) => {
  // ruleid: vigil-javascript-code-injection
  const result = eval(req.body.expression);
  // ok: vigil-javascript-code-injection
  const parsed = JSON.parse(req.body.expression);
  res.json({ result, parsed });
});

app.post("/sandbox", (req, res) => {
  // ruleid: vigil-javascript-code-injection
  const out = vm.runInNewContext(req.body.code, {});
  // ok: vigil-javascript-code-injection
  const fixed = vm.runInNewContext("1 + 1", { input: req.body.code });
  res.json({ out, fixed });
});

const sqlite3 = require("sqlite3");
const sqliteDb = new sqlite3.Database("app.db");

app.get("/notes", (req, res) => {
  // ruleid: vigil-javascript-sql-injection
  sqliteDb.all("SELECT * FROM notes WHERE tag = '" + req.query.tag + "'", (err, rows) => res.json(rows));
  // ok: vigil-javascript-sql-injection
  sqliteDb.all("SELECT * FROM notes WHERE tag = ?", [req.query.tag], (err, rows) => res.json(rows));
});

app.get("/remote", async (req, res) => {
  // ok: vigil-javascript-sql-injection
  const page = await axios.get(req.query.url);
  res.json(page.data);
});

router.get("/koa/users", async (ctx) => {
  // ruleid: vigil-javascript-sql-injection
  ctx.body = await db.query("SELECT * FROM users WHERE name = '" + ctx.query.name + "'");
  // ok: vigil-javascript-sql-injection
  ctx.body = await db.query("SELECT * FROM users WHERE name = ?", [ctx.query.name]);
});

server.route({
  method: "GET",
  path: "/hapi/users",
  handler: async (request, h) => {
    // ruleid: vigil-javascript-sql-injection
    return db.query(`SELECT * FROM users WHERE name = '${request.query.name}'`);
  },
});

async function replay(request) {
  // ok: vigil-javascript-sql-injection
  return db.query("SELECT * FROM audit WHERE h = '" + request.headers.get("x-id") + "'");
}
