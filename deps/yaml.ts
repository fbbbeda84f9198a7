/**
 * The `yaml` package, which reads experiment files and writes Kubernetes manifests, pinned (see
 * `deps/mod.ts`).
 *
 * @module
 */
export * from "npm:yaml@2.9.1";
