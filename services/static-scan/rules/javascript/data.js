const serialize = require("node-serialize");
const yaml = require("js-yaml");
const libxmljs = require("libxmljs");

function restore(req) {
  // ruleid: vigil-javascript-unsafe-deserialization
  return serialize.unserialize(req.cookies.profile);
}

function loadConfig(text) {
  // ruleid: vigil-javascript-unsafe-deserialization
  return yaml.unsafeLoad(text);
}

function restoreJson(req) {
  // ok: vigil-javascript-unsafe-deserialization
  return JSON.parse(req.cookies.profile);
}

function loadConfigSafe(text) {
  // ok: vigil-javascript-unsafe-deserialization
  return yaml.load(text);
}

function parseInvoice(xml) {
  // ruleid: vigil-javascript-xxe
  return libxmljs.parseXml(xml, { noent: true });
}

function parseFeed(xml) {
  // ruleid: vigil-javascript-xxe
  return libxmljs.parseXmlString(xml, { noblanks: true, noent: true });
}

function parseInvoiceSafe(xml) {
  // ok: vigil-javascript-xxe
  return libxmljs.parseXml(xml);
}

function parseFeedSafe(xml) {
  // ok: vigil-javascript-xxe
  return libxmljs.parseXmlString(xml, { noblanks: true });
}

// ruleid: vigil-javascript-redos
const EMAIL = /^([a-zA-Z0-9_.-]+)+@example\.com$/;
// ruleid: vigil-javascript-redos
const WORDS = new RegExp("^(\\w+\\s*)*$");
// ok: vigil-javascript-redos
const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
// ok: vigil-javascript-redos
const DIGITS = /(\d+)/g;

function isEmail(s) {
  // ok: vigil-javascript-redos
  return EMAIL.test(s);
}
