/**
 * Turns a `file:` URL into a path and leaves strings as they are, so DSL options accept both
 * `"./data.json"` and `new URL("./data.json", import.meta.url)`.
 *
 * @param location A path or URL.
 * @returns A path (or the URL's text when it is not a `file:` URL).
 */
export function toPath(location: string | URL): string {
  if (location instanceof URL) {
    return location.protocol === "file:" ? decodeURIComponent(location.pathname) : location.href;
  }
  return location;
}
