import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { exec, execFile } from "child_process";
import fs from "fs/promises";
import path from "path";
import { z } from "zod";

const server = new McpServer({ name: "tools", version: "1.0.0" });
const low = new Server({ name: "low", version: "1.0.0" }, { capabilities: { tools: {} } });
const ROOT = path.resolve("/srv/docs");
const BRANCHES = ["main", "dev"];
const HOSTS = new Set(["api.github.com"]);

server.tool("grep", "Search files", { pattern: z.string() }, async ({ pattern }) => {
  // ruleid: vigil-javascript-mcp-tool-command-injection
  exec(`grep -r ${pattern} .`, () => {});
  return { content: [] };
});

server.registerTool("run", { description: "Run", inputSchema: { cmd: z.string() } }, async (args) => {
  // ruleid: vigil-javascript-mcp-tool-command-injection
  exec(args.cmd);
  return { content: [] };
});

server.tool("log", { branch: z.string() }, async ({ branch }) => {
  if (!BRANCHES.includes(branch)) {
    throw new Error("unknown branch");
  }
  // ok: vigil-javascript-mcp-tool-command-injection
  exec(`git log ${branch}`);
  return { content: [] };
});

server.tool("show", { ref: z.string() }, async ({ ref }) => {
  // ok: vigil-javascript-mcp-tool-command-injection
  execFile("git", ["show", "--", ref]);
  return { content: [] };
});

low.setRequestHandler(CallToolRequestSchema, async (request) => {
  // ruleid: vigil-javascript-mcp-tool-command-injection
  exec(request.params.arguments.cmd);
  return { content: [] };
});

server.tool("read", { file: z.string() }, async ({ file }) => {
  // ruleid: vigil-javascript-mcp-tool-path-traversal
  const text = await fs.readFile(file, "utf8");
  return { content: [{ type: "text", text }] };
});

server.registerTool("save", { description: "Save" }, async ({ name, body }) => {
  // ruleid: vigil-javascript-mcp-tool-path-traversal
  await fs.writeFile(path.join(ROOT, name), body);
  return { content: [] };
});

server.tool("read-safe", { file: z.string() }, async ({ file }) => {
  const target = path.resolve(ROOT, file);
  if (!target.startsWith(ROOT + path.sep)) {
    throw new Error("outside the root");
  }
  // ok: vigil-javascript-mcp-tool-path-traversal
  const text = await fs.readFile(target, "utf8");
  return { content: [{ type: "text", text }] };
});

server.tool("read-base", { file: z.string() }, async ({ file }) => {
  // ok: vigil-javascript-mcp-tool-path-traversal
  const text = await fs.readFile(path.join(ROOT, path.basename(file)), "utf8");
  return { content: [{ type: "text", text }] };
});

server.tool("fetch", { url: z.string() }, async ({ url }) => {
  // ruleid: vigil-javascript-mcp-tool-ssrf
  const response = await fetch(url);
  return { content: [{ type: "text", text: await response.text() }] };
});

server.tool("fetch-any", { url: z.string() }, async (args) => {
  // ruleid: vigil-javascript-mcp-tool-ssrf
  const response = await axios.get(args.url);
  return { content: [{ type: "text", text: response.data }] };
});

server.tool("repo", { owner: z.string() }, async ({ owner }) => {
  // ok: vigil-javascript-mcp-tool-ssrf
  const response = await fetch(`https://api.github.com/users/${owner}`);
  return { content: [{ type: "text", text: await response.text() }] };
});

server.tool("fetch-allowed", { url: z.string() }, async ({ url }) => {
  const host = new URL(url).hostname;
  if (!HOSTS.has(host)) {
    throw new Error("host not allowed");
  }
  // ok: vigil-javascript-mcp-tool-ssrf
  const response = await fetch(url);
  return { content: [{ type: "text", text: await response.text() }] };
});
