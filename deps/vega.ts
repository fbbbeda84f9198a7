/**
 * Vega, which renders the report's charts to SVG, pinned (see `deps/mod.ts`).
 *
 * @module
 */
export * from "npm:vega@6.4.0";
