/**
 * Waits for a promise, but no longer than `ms`; the timer is always cleared, so nothing is
 * left pending.
 *
 * @param promise What to wait for.
 * @param ms The most to wait.
 * @returns True when the promise settled in time.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
