import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["scenarios/**/*.test.ts"],
    // Each scenario runs 4-5 node processes; two scenarios at once on a
    // 2-core machine starve them of CPU and measure the machine, not us.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
