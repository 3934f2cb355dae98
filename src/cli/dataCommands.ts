/** `featlab data get | ls`: the real data sets, where they are, and fetching them into the cache. */
import { Command, Option } from 'commander';
import { DATASETS, cacheFolder, locate } from '../data/catalog.js';
import { REAL_DATASETS, type RealDataset } from '../data/realDatasetNames.js';
import { downloadDataset } from '../data/download.js';
import { UsageError } from './errors.js';
import { table } from './format.js';

function getCommand(): Command {
  return new Command('get')
    .description('download a data set from its official location (or --from a mirror) into the cache, checking checksums')
    .addArgument(new Command().createArgument('<name>', 'data set').choices(REAL_DATASETS))
    .addOption(new Option('--from <url>', 'base URL to fetch the files from instead of the official one'))
    .action(async (name: RealDataset, flags: { from?: string }) => {
      const info = DATASETS[name];
      let last = 0;
      const folder = await downloadDataset(info, {
        baseUrl: flags.from,
        onProgress: (file, received, total) => {
          const now = Date.now();
          if (now - last < 500 && received !== total) return;
          last = now;
          const mb = (b: number) => (b / 1e6).toFixed(1);
          process.stderr.write(`featlab: ${file} ${mb(received)}${total ? ` of ${mb(total)}` : ''} MB\n`);
        },
      }).catch((e: Error) => {
        throw new UsageError(`${e.message}${flags.from ? '' : `\n  offline? put the files in ${cacheFolder(name)} by hand, or fetch them --from a mirror`}`);
      });
      process.stdout.write(`${info.title}: ready in ${folder}\n`);
    });
}

function lsCommand(): Command {
  return new Command('ls').description('the real data sets and where their files are (the cache is FEATLAB_DATA or ~/.cache/featlab)').action(() => {
    const rows = REAL_DATASETS.map((name) => {
      const info = DATASETS[name];
      const folder = locate(info);
      return [name, info.title, folder ?? `missing: featlab data get ${name}`];
    });
    process.stdout.write(`${table(['name', 'data set', 'files'], rows)}\n`);
  });
}

export function dataCommand(): Command {
  const data = new Command('data').description('real data sets: ls, get');
  data.addCommand(getCommand().exitOverride());
  data.addCommand(lsCommand().exitOverride());
  return data;
}
