import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The Cargo build script sets ACCORD_UI_OUT so the bundle lands in Cargo's OUT_DIR and is
// never written into the source tree.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: process.env.ACCORD_UI_OUT ?? 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
