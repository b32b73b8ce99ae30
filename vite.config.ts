import type { IncomingMessage } from 'node:http';
import preact from '@preact/preset-vite';
import { type ProxyOptions, defineConfig } from 'vite';
import { compression } from 'vite-plugin-compression2';

// The UI is built into dist/client and served by the hooklab server on the same port.
// `npm run dev:client` proxies the API, Socket.IO and receiver URLs to a server on :8080.
const backend = process.env.HOOKLAB_BACKEND ?? 'http://127.0.0.1:8080';
const backendOrigin = new URL(backend).origin;

// hooklab's host/origin guard (server/http/host-guard.ts) answers only to its own host:port,
// so the proxy presents hooklab's own origin: Host through `changeOrigin`, and Origin rewritten
// here, before a request or a WebSocket upgrade is proxied (Vite calls `bypass` for both).
// Only the dev server's own pages (Origin = http://<Host>) are rewritten: another site's
// Origin passes through unchanged, so the guard still refuses it.
function presentBackendOrigin(req: IncomingMessage): undefined {
  if (req.headers.origin === `http://${req.headers.host}`) req.headers.origin = backendOrigin;
  return undefined;
}
const toBackend: ProxyOptions = { target: backend, changeOrigin: true, bypass: presentBackendOrigin };

export default defineConfig({
  root: 'client',
  // Gzip and Brotli copies of the built files beside them, served by the hooklab server to
  // browsers that take them (server/app.ts): made once here, not per request.
  plugins: [preact(), compression({ algorithms: ['gzip', 'brotliCompress'], threshold: 1024 })],
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/api': toBackend,
      '/h/': backend, // receiver URLs are not guarded: proxied as they were
      '/socket.io': { ...toBackend, ws: true },
    },
  },
});
