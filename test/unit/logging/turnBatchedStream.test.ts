/** turnBatched: the lines of one event-loop turn reach the destination in one write, at the end of that turn. */
import { turnBatched } from '../../../src/logging/turnBatchedStream';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test('gathers the lines of one turn into one write, in order, and writes nothing for an idle turn', async () => {
  const writes: string[] = [];
  const stream = turnBatched({ write: (chunk: string) => void writes.push(chunk) });
  stream.write('a\n');
  stream.write('b\n');
  expect(writes).toEqual([]);
  await nextTurn();
  expect(writes).toEqual(['a\nb\n']);
  await nextTurn();
  expect(writes).toHaveLength(1);
  stream.write('c\n');
  await nextTurn();
  expect(writes).toEqual(['a\nb\n', 'c\n']);
});

test('flushNow writes what is pending at once, and the scheduled flush then has nothing left', async () => {
  const writes: string[] = [];
  const stream = turnBatched({ write: (chunk: string) => void writes.push(chunk) });
  stream.write('x\n');
  stream.flushNow();
  expect(writes).toEqual(['x\n']);
  stream.write('y\n');
  await nextTurn();
  expect(writes).toEqual(['x\n', 'y\n']);
});
