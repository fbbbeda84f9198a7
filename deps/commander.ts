/**
 * Commander with typed options, the CLI's argument parser, pinned (see `deps/mod.ts`). The typings
 * package's peer dependency `commander` is imported at the same version, so Deno resolves the peer
 * to it rather than to the newest 14.0.x.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- the point of deps/ (see deps/mod.ts)
import "npm:commander@14.0.0";
export * from "npm:@commander-js/extra-typings@14.0.0";
