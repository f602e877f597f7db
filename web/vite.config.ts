import { defineConfig, loadEnv } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies /api to a local API; API_PORT picks which one (default 8000).
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, ".", "");
  const apiPort = env.API_PORT || "8000";
  return {
    plugins: [react()],
    base: "/",
    build: {
      outDir: "dist",
      sourcemap: false,
    },
    server: {
      proxy: {
        "/api": { target: `http://127.0.0.1:${apiPort}` },
      },
    },
    preview: {
      proxy: {
        "/api": { target: `http://127.0.0.1:${apiPort}` },
      },
    },
  };
});
