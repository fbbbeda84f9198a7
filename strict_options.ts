/**
 * Strict options for every DSL factory. A factory checks its options object against the names it
 * knows and notes what it does not understand (an unknown key, with the key a typo probably meant;
 * a text value it cannot read, such as a bandwidth) on the node it returns. Nothing is thrown
 * there: `compile()` (and `validatePlan`) collects the notes with the node's place in the plan and
 * reports them beside every other issue, as an unknown key in a plan file is reported.
 *
 * The notes travel on the node under a registered symbol, so they survive being handed from one
 * factory to another (a schedule into an optimizer, a topology into a base), reach a copy of
 * gossamer other than the one that made the node, and never reach JSON. This module sits below the
 * DSL and the topologies, which both build nodes.
 *
 * @module
 */

/** A problem a factory found in its options, reported when the plan compiles. */
export interface OptionProblem {
  /** Where, relative to the node, in the names the factory's options use: `"momentun"`. */
  readonly path: string;
  /** What is wrong, in a sentence. */
  readonly message: string;
  /** What would have been accepted. */
  readonly expected: string;
  /** What the options held, as JSON text. */
  readonly received: string;
  /**
   * The node field, relative to the node, that holds the value not understood (as NaN or as the
   * text itself): the schema's issue about that field is this problem told in the plan's words,
   * so it is left out.
   */
  readonly field?: string;
}

/** The key under which a node carries its problems; registered, so every copy shares it. */
const PROBLEMS = Symbol.for("gossamer.optionProblems");

/** Every key of every member of an options type (a union of option sets, as `mnist`'s). */
export type AllKeys<T> = T extends unknown ? keyof T & string : never;

/**
 * The option names a factory knows, as a record the compiler checks against its options type:
 * a name missing from it, or one it does not have, fails `deno check`.
 */
export type OptionNames<T> = { readonly [K in AllKeys<T>]-?: true };

/**
 * Levenshtein distance between two words.
 *
 * @param a One word.
 * @param b The other.
 * @returns The fewest single-letter insertions, deletions and substitutions between them.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { editDistance } from "./strict_options.ts";
 * assert.equal(editDistance("momentun", "momentum"), 1);
 * ```
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known word a typo probably meant: the closest within one edit for short words and a third
 * of the letters for long ones, else `undefined`.
 *
 * @param typo The word written.
 * @param known The words that would have been understood.
 * @returns The suggestion, or `undefined` when none is close.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closestWord } from "./strict_options.ts";
 * assert.equal(closestWord("dirichelt", ["iid", "dirichlet", "byLabel"]), "dirichlet");
 * assert.equal(closestWord("speed", ["iid", "dirichlet"]), undefined);
 * ```
 */
export function closestWord(typo: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(typo.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const word of known) {
    const distance = editDistance(word, typo);
    if (distance <= limit && distance < bestDistance) [best, bestDistance] = [word, distance];
  }
  return best;
}

/** Text longer than this is cut when a message echoes it. */
export const ECHO_LIMIT = 80;

/**
 * Cuts a long echoed value to its first 40 and last 20 characters (a path keeps its file name)
 * and says how long it was, so a plan holding a megabyte string gets a short message.
 *
 * @param text The value as a message would show it.
 * @returns `text` itself when at most {@linkcode ECHO_LIMIT} characters, else its cut form.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipEcho } from "./strict_options.ts";
 * assert.equal(clipEcho("ring"), "ring");
 * assert.equal(clipEcho("x".repeat(1000)), `${"x".repeat(40)}…${"x".repeat(20)} (1000 characters)`);
 * ```
 */
export function clipEcho(text: string): string {
  if (text.length <= ECHO_LIMIT) return text;
  // Never split a surrogate pair: a lone half prints as garbage.
  let head = 40;
  if (/[\uD800-\uDBFF]/.test(text[head - 1]!)) head--;
  let tail = text.length - 20;
  if (/[\uDC00-\uDFFF]/.test(text[tail]!)) tail++;
  return `${text.slice(0, head)}…${text.slice(tail)} (${text.length} characters)`;
}

/**
 * A sentence that may quote values from a plan or a file, with every long unbroken run (a quoted
 * string, a path, a key) cut by {@linkcode clipEcho}, and the whole kept to a few lines.
 *
 * @param text The sentence.
 * @returns The sentence, cut where it quotes something long.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipSentence } from "./strict_options.ts";
 * assert.match(clipSentence(`got "${"y".repeat(500)}"`), /^got "y{39}…y{19}" \(502 characters\)$/);
 * ```
 */
export function clipSentence(text: string): string {
  const runs = text.replace(/\S{81,}/g, (run) => clipEcho(run));
  return runs.length <= 8 * ECHO_LIMIT ? runs : clipEcho(runs);
}

/** JSON text of a value, for `received`. */
function asJson(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * The problems of the keys of `options` that are not in `names`, each with the name it probably
 * meant.
 *
 * @param options The options object a factory received (`undefined`: none).
 * @param names The option names the factory knows.
 * @param at The path of `options` inside the node (`"links.0"`), empty for the node's own.
 * @returns One problem per unknown key.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unknownOptions } from "./strict_options.ts";
 * const [problem] = unknownOptions({ lr: 0.1, momentun: 0.9 }, { lr: true, momentum: true });
 * assert.equal(problem?.path, "momentun");
 * assert.equal(problem?.message, 'unknown option; did you mean "momentum"?');
 * ```
 */
export function unknownOptions(
  options: object | undefined,
  names: Readonly<Record<string, true>>,
  at = "",
): OptionProblem[] {
  if (options === undefined) return [];
  const known = Object.keys(names);
  return Object.keys(options).filter((key) => !Object.hasOwn(names, key)).map((key) => {
    const near = closestWord(key, known);
    return {
      path: at === "" ? key : `${at}.${key}`,
      message: near === undefined ? "unknown option" : `unknown option; did you mean "${near}"?`,
      expected: known.length === 0 ? "no options" : `one of ${known.join(", ")}`,
      received: asJson(key),
    };
  });
}

/**
 * A problem with a text value that is not one of a few words (a partition, an activation), with
 * the word it probably meant.
 *
 * @param path The option's path in the node.
 * @param value The value given.
 * @param words The words understood.
 * @param field The node field holding the value, when it differs from `path`.
 * @returns The problem, or `null` when the value is one of the words.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unknownWord } from "./strict_options.ts";
 * assert.equal(unknownWord("partition", "dirichelt", ["iid", "dirichlet"])?.message,
 *   'unknown partition; did you mean "dirichlet"?');
 * ```
 */
export function unknownWord(
  path: string,
  value: unknown,
  words: readonly string[],
  field: string = path,
): OptionProblem | null {
  if (typeof value === "string" && words.includes(value)) return null;
  const near = typeof value === "string" ? closestWord(value, words) : undefined;
  const name = path.split(".").at(-1);
  return {
    path,
    message: near === undefined ? `unknown ${name}` : `unknown ${name}; did you mean "${near}"?`,
    expected: `one of ${words.map((word) => JSON.stringify(word)).join(", ")}`,
    received: asJson(value),
    field,
  };
}

/**
 * Notes problems on a node (before it is frozen); a node without problems is left as it is.
 *
 * @param node A plan node being built.
 * @param problems What its factory did not understand.
 * @returns The same node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optionProblems, unknownOptions, withProblems } from "./strict_options.ts";
 * const node = withProblems({ kind: "ring" }, unknownOptions({ hubb: 1 }, {}));
 * assert.equal(optionProblems({ base: { topology: node } })[0]?.path, "base.topology.hubb");
 * assert.equal(JSON.stringify(node), '{"kind":"ring"}');
 * ```
 */
export function withProblems<N extends object>(node: N, problems: readonly OptionProblem[]): N {
  if (problems.length > 0) {
    Object.defineProperty(node, PROBLEMS, { value: Object.freeze([...problems]) });
  }
  return node;
}

/**
 * Every problem noted on the nodes inside a value, with its path from the value's root.
 *
 * @param value A plan, a pipeline's slots, or any JSON-like value holding nodes.
 * @param at The path of `value` itself, empty for the root.
 * @returns The problems, depth first in key order, their paths (and fields) from the root.
 */
export function optionProblems(value: unknown, at = ""): OptionProblem[] {
  // Nodes sit in objects' fields, never in arrays (a plan's arrays hold numbers and plain
  // records), so arrays are not searched: a custom topology's weights can be millions of numbers.
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  const join = (path: string) => at === "" ? path : path === "" ? at : `${at}.${path}`;
  const own = ((value as { [PROBLEMS]?: readonly OptionProblem[] })[PROBLEMS] ?? []).map(
    (problem): OptionProblem => ({
      ...problem,
      path: join(problem.path),
      ...(problem.field === undefined ? {} : { field: join(problem.field) }),
    }),
  );
  const inner = Object.entries(value).flatMap(([key, item]) => optionProblems(item, join(key)));
  return [...own, ...inner];
}
