/**
 * For state that settles a moment after the call that changed it (a PostgreSQL session ends after
 * it was told to, a claim's advisory locks go after run() resolved): `attempt()`, and again every
 * `everyMs` while `again(result)` holds, for at most `withinMs`. Returns the last result, which the
 * test then asserts on as usual.
 */
export async function retryWhile<T>(attempt: () => Promise<T>, again: (result: T) => boolean, withinMs = 2_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + withinMs;
  let result = await attempt();
  while (again(result) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    result = await attempt();
  }
  return result;
}
