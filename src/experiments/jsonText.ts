/** JSON as people write it in files: a byte-order mark is skipped, a key given twice is an error (as YAML has it). */
import { parseDocument } from 'yaml';
import { SpecError } from './trialSpec.js';

export function parseJsonText(text: string, where: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    throw new SpecError([`${where}: not valid JSON (${(e as Error).message})`]);
  }
  // JSON.parse keeps the last of two equal keys without a word; YAML's parser (JSON is YAML) names them.
  const duplicate = parseDocument(body, { uniqueKeys: true }).errors.find((e) => e.code === 'DUPLICATE_KEY');
  if (duplicate) throw new SpecError([`${where}: ${duplicate.message.split('\n')[0]}`]);
  return value;
}
