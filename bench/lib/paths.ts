import { fileURLToPath } from 'node:url';

// This file runs from bench/dist/lib/paths.js.
export const benchDir = fileURLToPath(new URL('../../', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** Compiled bench code (bench/dist/). */
export const benchDist = fileURLToPath(new URL('../', import.meta.url));
