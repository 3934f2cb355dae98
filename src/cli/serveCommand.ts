/** `featlab serve`: the browser explorer on 127.0.0.1 (live lab and stored results) until Ctrl-C. */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { isLoopback, startServer } from '../web/server/serve.js';
import { dbOption } from './experimentCommands.js';
import { UsageError } from './errors.js';

/** The built app ships beside the compiled code: dist/web next to dist/src. */
const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../web');

function portOf(text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw new UsageError(`--port: an integer from 0 to 65535 (0 picks a free port), got "${text}"`);
  return v;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('the browser explorer: live training of small nets and the stored results (read-only)')
    .option('--host <address>', 'address to bind (another host than 127.0.0.1 exposes the store to the network)', '127.0.0.1')
    .option('--port <n>', 'port (0: a free one)', '5170')
    .addOption(dbOption())
    .action(async (o: { host: string; port: string; db: string }) => {
      if (!existsSync(resolve(APP_DIR, 'index.html'))) throw new UsageError(`the explorer app is not built (${APP_DIR} has no index.html): run npm run build:web`);
      if (existsSync(o.db) && !statSync(o.db).isFile()) throw new UsageError(`--db: ${o.db} is not a store file (a folder or a device)`);
      if (!isLoopback(o.host)) process.stderr.write(`featlab: warning: bound to ${o.host}, beyond this machine's loopback: anyone who can reach it can read the store (requests must name this machine in their Host header)\n`);
      const running = await startServer({ host: o.host, port: portOf(o.port), storePath: resolve(o.db), appDir: APP_DIR }).catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot listen on ${o.host}:${o.port} (${e.code ?? e.message})`);
      });
      process.stdout.write(`featlab explorer at ${running.url}  (store: ${resolve(o.db)}${existsSync(o.db) ? '' : ', not there yet'}; Ctrl-C stops)\n`);
      await new Promise<void>((done) => {
        const stop = () => void running.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
