import { defineConfig } from 'vite';

// The built assets land in web/dist, which `gdlens serve` serves at `/`.
// `GDLENS_API` lets `npm run dev` proxy /graphql and /api to a running server.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: {
      '/graphql': process.env.GDLENS_API ?? 'http://127.0.0.1:8080',
      '/api': process.env.GDLENS_API ?? 'http://127.0.0.1:8080',
    },
  },
});
