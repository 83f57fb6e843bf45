// A minimal static server for dist/ (any static server will do): `node serve.mjs [port]`.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), "dist");
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm",
  ".json": "application/json", ".jsonl": "application/x-ndjson", ".map": "application/json" };

export function serve(port = 0, host = "127.0.0.1") {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    const file = path.join(dist, path.normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, ""));
    const target = file.endsWith(path.sep) || url.pathname === "/" ? path.join(file, "index.html") : file;
    if (!target.startsWith(dist)) { res.writeHead(403).end(); return; }
    try {
      const body = await readFile(target);
      res.writeHead(200, { "content-type": types[path.extname(target)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serve(Number(process.argv[2] ?? 8080));
  console.log(`editor page: http://127.0.0.1:${server.address().port}/`);
}
