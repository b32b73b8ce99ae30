import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The UI is built into dist/client and served by the hooklab server on the same port.
// `npm run dev:client` proxies the API, Socket.IO and receiver URLs to a server on :8080.
const backend = process.env.HOOKLAB_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: 'client',
  plugins: [preact()],
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/api': backend,
      '/h/': backend,
      '/socket.io': { target: backend, ws: true },
    },
  },
});
