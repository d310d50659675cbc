/**
 * Cleanup registered next to creation: `const defer = useCleanup()` at the top of a describe
 * block, then `defer(() => server.close())` right after the server is made. Deferred tasks run
 * after each test, last registered first, even when the test failed.
 */

export type Defer = (task: () => unknown) => void;

export function useCleanup(): Defer {
  const tasks: (() => unknown)[] = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    for (let task = tasks.pop(); task; task = tasks.pop()) {
      try {
        await task();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0)
      throw new AggregateError(errors, `${errors.length} cleanup tasks failed`);
  });
  return (task) => {
    tasks.push(task);
  };
}
