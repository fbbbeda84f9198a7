/**
 * Recursively freezes a JSON-like value and returns it with a readonly type.
 *
 * @param value A plain object, array or primitive.
 * @returns The same value, frozen all the way down.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) {
      deepFreeze((value as Record<string, unknown>)[key]);
    }
    Object.freeze(value);
  }
  return value;
}

/**
 * Copies a value as plain JSON data: URLs become strings and `undefined` fields disappear, as
 * they would in a plan file; non-finite numbers become the strings `"NaN"`, `"Infinity"` and
 * `"-Infinity"` instead of JSON's silent `null`, so the validator reports them.
 *
 * @param value A JSON-like value.
 * @returns A fresh copy made only of JSON data.
 */
export function toPlainData<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(
      value,
      (_key, item) => typeof item === "number" && !Number.isFinite(item) ? String(item) : item,
    ),
  );
}
