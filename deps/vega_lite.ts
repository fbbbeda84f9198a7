/**
 * Vega-Lite, which compiles the report's chart specs to Vega, pinned (see `deps/mod.ts`).
 *
 * @module
 */
export * from "npm:vega-lite@6.5.0";
