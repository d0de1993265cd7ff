import { defineConfig } from 'vitest/config';

// Interop tests drive real processes (chat, pppd, socat, ser2net, qemu): generous timeouts,
// and files run in parallel only up to the 2 cores this project is sized for.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
