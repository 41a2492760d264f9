import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The image test installs the production dependencies (npm ci) before it starts a node.
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
