import { defineProject } from 'vitest/config';

// Repository-level checks (packaging, release set-up). The packaging test builds, packs and
// installs the packages, so it gets a long timeout.
export default defineProject({
  test: { name: 'tools', include: ['test/**/*.test.ts'], testTimeout: 180_000 },
});
