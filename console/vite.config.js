// Vite build of the staff console into dist/ (served by nginx at /).
// `npm run dev` proxies the API to a running stack: XQ_DEV_API, default
// http://127.0.0.1:8080 (deploy/stack.sh's default port).
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

const api = process.env.XQ_DEV_API || 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [vue()],
  base: '/',
  server: { proxy: { '/admin/api': api, '/healthz': api } },
  build: { outDir: 'dist', chunkSizeWarningLimit: 2000, sourcemap: false },
})
