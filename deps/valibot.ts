/**
 * Valibot, the plan schema's validator, pinned (see `deps/mod.ts` for why every npm package is
 * reached through a module here).
 *
 * @module
 */
export * from "npm:valibot@1.5.0";
