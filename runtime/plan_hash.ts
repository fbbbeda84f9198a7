/**
 * A plan's fingerprint: SHA-256 (WebCrypto) of its canonical JSON. Checkpoints carry the hash of
 * the plan that wrote them, so a checkpoint is never restored into a different plan; workers of
 * one run compare theirs, so a worker started with another plan file is refused.
 *
 * @module
 */

import type { Plan } from "../dsl/plan.ts";

/** JSON with object keys sorted, so equal plans always give equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
    return `{${
      entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(",")
    }}`;
  }
  return JSON.stringify(value);
}

/**
 * The plan without the fields added after plan version 1 while they hold their "off" value
 * (`elastic: null`, a network's `failures: []`): a plan that does not use them hashes as it did
 * before they existed, so its checkpoints still resume and its workers still agree.
 */
function withoutLateDefaults(plan: Plan): Record<string, unknown> {
  const kept: Record<string, unknown> = { ...plan };
  if ((plan.elastic ?? null) === null) delete kept.elastic;
  if (plan.network != null && (plan.network.failures ?? []).length === 0) {
    const { failures: _, ...network } = plan.network;
    kept.network = network;
  }
  return kept;
}

/**
 * The hex SHA-256 of a plan, optionally leaving out some top-level keys.
 *
 * @param plan The plan.
 * @param ignore Top-level keys that do not count (a resumed run may change `steps`).
 * @returns 64 hex digits.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planHash } from "./plan_hash.ts";
 * import { allReduce, linear, sgd, synthetic, train } from "../mod.ts";
 *
 * const pipeline = train(linear({ dim: 2 })).data(synthetic({ task: "regression", features: 2 }))
 *   .optimizer(sgd({ lr: 0.1 })).base(allReduce());
 * const a = await planHash(pipeline.steps(10).compile(), ["steps", "evalEvery"]);
 * const b = await planHash(pipeline.steps(20).compile(), ["steps", "evalEvery"]);
 * assert.equal(a, b);
 * assert.notEqual(await planHash(pipeline.steps(10).compile()), await planHash(pipeline.steps(20).compile()));
 * ```
 */
export async function planHash(plan: Plan, ignore: readonly string[] = []): Promise<string> {
  const kept = Object.fromEntries(
    Object.entries(withoutLateDefaults(plan)).filter(([key]) => !ignore.includes(key)),
  );
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical(kept)));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
