/**
 * Runs storage work keyed by document, at most `concurrency` tasks at once, taking the documents in turn: a
 * document with many tasks waiting (a flood of appends) delays another document's next task by at most one task
 * of its own, where a first-come queue would make it wait for all of them. One document's tasks keep their order.
 */
export function fairQueue(concurrency: number) {
  // Insertion order is the round: a document that had its turn goes to the back.
  const waiting = new Map<string, (() => void)[]>();
  let running = 0;

  function next(): void {
    while (running < concurrency && waiting.size) {
      const [key, tasks] = waiting.entries().next().value!;
      waiting.delete(key);
      const start = tasks.shift()!;
      if (tasks.length) waiting.set(key, tasks);
      running++;
      start();
    }
  }

  return function run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        task()
          .then(resolve, reject)
          .finally(() => {
            running--;
            next();
          });
      };
      const tasks = waiting.get(key);
      if (tasks) tasks.push(start);
      else waiting.set(key, [start]);
      next();
    });
  };
}
