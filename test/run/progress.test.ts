import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { TerminalProgress } from '../../src/run/progress.js';

/** A terminal stand-in: records what is written, says it is a TTY of 100 columns. */
function fakeTerminal(): { stream: NodeJS.WritableStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  Object.assign(stream, { isTTY: true, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return { stream, text: () => chunks.join('') };
}

describe('terminal progress', () => {
  it('a stop’s notice stays the last thing written: later progress updates draw nothing over it', async () => {
    const terminal = fakeTerminal();
    const progress = new TerminalProgress(terminal.stream);
    progress.start(10);
    progress.update(3, 0, 0.3);
    progress.notice('featlab: SIGINT: stopping');
    const after = terminal.text();
    progress.update(4, 0, 0.4);
    progress.update(5, 0, 0.5);
    progress.stop();
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(after.endsWith('featlab: SIGINT: stopping\n'), JSON.stringify(after.slice(-80)));
    assert.equal(terminal.text(), after);
  });
});
