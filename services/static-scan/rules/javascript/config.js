const express = require("express");
const cors = require("cors");
const session = require("express-session");

const app = express();
// ruleid: vigil-javascript-cors-wildcard-credentials
app.use(cors({ origin: "*", credentials: true }));
// ruleid: vigil-javascript-cors-wildcard-credentials
app.use("/api", cors({ credentials: true, origin: true }));
// ok: vigil-javascript-cors-wildcard-credentials
app.use(cors({ origin: ["https://app.example.com"], credentials: true }));
// ok: vigil-javascript-cors-wildcard-credentials
app.use("/public", cors({ origin: "*" }));

// ruleid: vigil-javascript-insecure-cookie
app.use(session({ secret: process.env.SESSION_SECRET, cookie: { secure: false } }));
// ok: vigil-javascript-insecure-cookie
app.use(session({ secret: process.env.SESSION_SECRET, cookie: { secure: true, httpOnly: true } }));

app.post("/login", (req, res) => {
  // ruleid: vigil-javascript-insecure-cookie
  res.cookie("session", createSession(req.body.user));
  // ruleid: vigil-javascript-insecure-cookie
  res.cookie("auth_token", "x", { httpOnly: true });
  // ok: vigil-javascript-insecure-cookie
  res.cookie("session", "x", { httpOnly: true, secure: true, sameSite: "lax" });
  // ok: vigil-javascript-insecure-cookie
  res.cookie("theme", req.body.theme);
  res.end();
});
