import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    // stylesheets are read as text by tests that check them (speaker colour contrast)
    css: { include: [/src\/styles\/.+\.css/] },
    restoreMocks: true,
    unstubGlobals: true,
  },
});
