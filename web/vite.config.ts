/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// One origin for the browser: /api goes to connections-api, /events to the SSE gateway.
const api = process.env.RITA_API_URL ?? "http://127.0.0.1:8000";
const events = process.env.RITA_EVENTS_URL ?? "http://127.0.0.1:8001";
const proxy = {
  "/api": { target: api, changeOrigin: false },
  // SSE: no timeout on the long-lived response (http-proxy's default would cut it).
  "/events": { target: events, changeOrigin: false, timeout: 0, proxyTimeout: 0 },
};

export default defineConfig({
  // React's automatic JSX runtime through esbuild (no Babel plugin needed).
  esbuild: { jsx: "automatic" },
  server: { port: 8080, strictPort: true, host: "127.0.0.1", proxy },
  preview: { port: 8080, strictPort: true, host: "127.0.0.1", proxy },
  build: { sourcemap: true },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    // A busy shared machine: user-event typing alone can take seconds.
    testTimeout: 20_000,
    include: ["src/**/*.test.{ts,tsx}", "scripts/**/*.test.ts"],
  },
});
