const crypto = require("crypto");
const jwt = require("jsonwebtoken");
const https = require("https");

const SECRET = process.env.JWT_SECRET;

function register(user, password) {
  // ruleid: vigil-javascript-weak-password-hash
  user.hash = crypto.createHash("md5").update(password).digest("hex");
}

function login(user, req) {
  // ruleid: vigil-javascript-weak-password-hash
  return user.hash === crypto.createHash("sha1").update(req.body.password).digest("hex");
}

function etag(body) {
  // ok: vigil-javascript-weak-password-hash
  return crypto.createHash("md5").update(body).digest("hex");
}

function checksum(password) {
  // ok: vigil-javascript-weak-password-hash
  return crypto.scryptSync(password, "salt", 64).toString("hex");
}

function sign(payload, key) {
  // ruleid: vigil-javascript-weak-hash
  return crypto.createHmac("sha1", key).update(payload).digest("hex");
}

function signLegacy(payload, key) {
  // ruleid: vigil-javascript-weak-hash
  return crypto.createSign("RSA-SHA1").update(payload).sign(key);
}

function signSafe(payload, key) {
  // ok: vigil-javascript-weak-hash
  return crypto.createHmac("sha256", key).update(payload).digest("hex");
}

function fingerprint(payload) {
  // ok: vigil-javascript-weak-hash
  return crypto.createHash("sha256").update(payload).digest("hex");
}

function newSession(user) {
  // ruleid: vigil-javascript-insecure-random
  const sessionId = Math.random().toString(36).slice(2);
  return { user, sessionId };
}

function makeResetToken() {
  // ruleid: vigil-javascript-insecure-random
  return Math.floor(Math.random() * 1e6).toString();
}

function jitter(ms) {
  // ok: vigil-javascript-insecure-random
  const delay = ms + Math.random() * 100;
  return delay;
}

function makeApiKey() {
  // ok: vigil-javascript-insecure-random
  return crypto.randomBytes(32).toString("hex");
}

function currentUser(req, res, next) {
  const token = req.headers.authorization.split(" ")[1];
  // ruleid: vigil-javascript-jwt-unverified
  req.user = jwt.decode(token);
  next();
}

function anyAlg(token) {
  // ruleid: vigil-javascript-jwt-unverified
  return jwt.verify(token, SECRET, { algorithms: ["HS256", "none"] });
}

function currentUserSafe(req, res, next) {
  const token = req.headers.authorization.split(" ")[1];
  // ok: vigil-javascript-jwt-unverified
  req.user = jwt.verify(token, SECRET, { algorithms: ["HS256"] });
  next();
}

function kid(token) {
  // ok: vigil-javascript-jwt-unverified
  const header = jwt.decode(token, { complete: true }).header;
  const claims = jwt.verify(token, keys[header.kid], { algorithms: ["RS256"] });
  return claims;
}

// ruleid: vigil-javascript-tls-verify-disabled
const agent = new https.Agent({ rejectUnauthorized: false });
// ok: vigil-javascript-tls-verify-disabled
const safeAgent = new https.Agent({ rejectUnauthorized: true, ca: process.env.CA });
// ruleid: vigil-javascript-tls-verify-disabled
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
// ok: vigil-javascript-tls-verify-disabled
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "1";
