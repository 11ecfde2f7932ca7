/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The dashboard is served by the packgraph server at "/" with GraphQL at "/graphql" on the same
// origin. `vite dev` proxies /graphql (HTTP and WebSocket) to a server on PACKGRAPH_API (default :8000).
const api = process.env.PACKGRAPH_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { "/graphql": { target: api, ws: true, changeOrigin: true } },
  },
  build: {
    target: "es2022",
    sourcemap: false,
    // The app chunk stays well under this; the largest chunk is the charting library (Recharts, about
    // 415 kB), loaded only by the Reports view.
    chunkSizeWarningLimit: 450,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
});
