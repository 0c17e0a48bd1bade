/**
 * Jest in native ESM mode: sources are TypeScript compiled per file by SWC (type checking is
 * `npm run lint`'s job), imports keep their NodeNext `.js` suffixes and are mapped back to `.ts`.
 * Unit specs live beside the code (src/**\/*.spec.ts); e2e and robustness suites under test/.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  testTimeout: 30000,
};
