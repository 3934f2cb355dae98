/** `featlab metrics`: the registered metrics, what each measures, its cost and its parameters. */
import { Command } from 'commander';
import { z } from 'zod';
import { METRICS } from '../metrics/registry.js';

export function metricsCommand(): Command {
  return new Command('metrics').description('list the metrics a trial spec can ask for (metrics: [{ name, at, every, params }])').action(() => {
    for (const m of METRICS) {
      const schema = z.toJSONSchema(m.params, { io: 'input' }) as { properties?: Record<string, { default?: unknown; type?: string }> };
      const params = Object.entries(schema.properties ?? {}).map(([k, v]) => `${k}${v.default !== undefined ? ` = ${JSON.stringify(v.default)}` : ''}`);
      process.stdout.write(`${m.name}\n  ${m.summary}\n  cost: ${m.cost}\n  params: ${params.length ? params.join(', ') : 'none'}\n\n`);
    }
  });
}
