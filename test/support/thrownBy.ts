/**
 * What `call` throws, as "Name: message" ("nothing thrown" when it returns). For native helpers:
 * their errors are of the process's own realm, not of jest's sandbox, so `toThrow(TypeError)`
 * cannot tell them; their names and messages can.
 *
 *   expect(thrownBy(() => binding.open(1))).toBe('TypeError: dir must be a string');
 */
export function thrownBy(call: () => unknown): string {
  try {
    call();
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
  return 'nothing thrown';
}
