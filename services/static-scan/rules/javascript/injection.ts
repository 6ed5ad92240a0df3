import express, { Request, Response } from "express";
import { exec } from "child_process";
import { Pool } from "pg";

const app = express();
const pool = new Pool();

app.get("/users", async (req: Request, res: Response) => {
  const name = req.query.name as string;
  // ruleid: vigil-javascript-sql-injection
  const result = await pool.query(`SELECT * FROM users WHERE name = '${name}'`);
  // ok: vigil-javascript-sql-injection
  const safe = await pool.query("SELECT * FROM users WHERE name = $1", [name]);
  res.json([result.rows, safe.rows]);
});

app.post("/ping", (req: Request, res: Response) => {
  const host: string = req.body.host;
  // ruleid: vigil-javascript-command-injection
  exec(`ping -c 1 ${host}`, (err, out) => res.send(out));
  // ok: vigil-javascript-command-injection
  exec("uptime", (err, out) => res.send(out));
});
