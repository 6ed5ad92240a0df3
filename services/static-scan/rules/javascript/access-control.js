const express = require("express");
const User = require("./models/user");
const { requireAdmin } = require("./auth");

const app = express();
const admin = express.Router();

// ruleid: vigil-javascript-admin-route-without-auth
app.delete("/admin/users/:id", async (req, res) => {
  await User.deleteOne({ _id: String(req.params.id) });
  res.status(204).end();
});

// ruleid: vigil-javascript-admin-route-without-auth
app.get("/api/admin/stats", function (req, res) {
  res.json({ users: 1 });
});

// ok: vigil-javascript-admin-route-without-auth
app.get("/admin/reports", requireAdmin, (req, res) => {
  res.json([]);
});

// ok: vigil-javascript-admin-route-without-auth
app.get("/status", (req, res) => {
  res.json({ ok: true });
});

app.post("/users", async (req, res) => {
  // ruleid: vigil-javascript-mass-assignment
  const user = new User(req.body);
  await user.save();
  // ok: vigil-javascript-mass-assignment
  const other = new User({ name: req.body.name, email: req.body.email });
  res.json([user, other]);
});

app.put("/users/:id", async (req, res) => {
  // ruleid: vigil-javascript-mass-assignment
  await User.findByIdAndUpdate(req.params.id, req.body);
  const { name, bio } = req.body;
  // ok: vigil-javascript-mass-assignment
  await User.findByIdAndUpdate(req.params.id, { name, bio });
  res.end();
});

function merge(target, source) {
  for (const key in source) {
    if (typeof source[key] === "object" && source[key] !== null) {
      if (!target[key]) target[key] = {};
      merge(target[key], source[key]);
    } else {
      // ruleid: vigil-javascript-prototype-pollution
      target[key] = source[key];
    }
  }
  return target;
}

function deepAssign(dst, src) {
  for (const k of Object.keys(src)) {
    if (src[k] && typeof src[k] === "object") {
      deepAssign(dst[k], src[k]);
    }
    // ruleid: vigil-javascript-prototype-pollution
    dst[k] = src[k];
  }
}

function safeMerge(target, source) {
  for (const key in source) {
    if (key === "__proto__" || key === "constructor" || key === "prototype") continue;
    if (typeof source[key] === "object" && source[key] !== null) {
      if (!target[key]) target[key] = {};
      safeMerge(target[key], source[key]);
    } else {
      // ok: vigil-javascript-prototype-pollution
      target[key] = source[key];
    }
  }
  return target;
}

function shallowCopy(target, source) {
  for (const key in source) {
    // ok: vigil-javascript-prototype-pollution
    target[key] = source[key];
  }
  return target;
}
