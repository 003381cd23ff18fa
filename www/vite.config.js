import { defineConfig } from 'vite';

// JSX through Vite's built-in esbuild (no React plugin: nothing to install
// beyond vite itself). Relative base so www/dist works from any path.
export default defineConfig({
  base: './',
  esbuild: { jsx: 'automatic' },
  build: { target: 'es2019', sourcemap: false, chunkSizeWarningLimit: 400 },
  server: { port: 5173 },
});
