// Shared jest settings for every workspace. @swc/jest compiles TypeScript (decorators and their
// metadata included) far faster than ts-jest; types are checked by `npm run typecheck` instead.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  setupFiles: ['reflect-metadata'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Two cores: one jest worker per workspace keeps turbo's parallel workspaces from thrashing.
  maxWorkers: process.env.JEST_WORKERS ?? 1,
  testTimeout: 60_000,
  // Every suite closes what it opens, but a BullMQ/ioredis timer can outlive a finished run now
  // and then and keep jest alive for good (seen once in the worker suite): after the last test,
  // exit rather than hang CI.
  forceExit: true,
};
