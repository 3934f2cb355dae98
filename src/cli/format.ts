/** Small text helpers for the terminal: numbers that line up and stay short. */

export function formatNumber(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

/**
 * Text from a store or a spec made safe for a terminal: control characters (escape sequences that
 * could move the cursor, retitle the window or write the clipboard) become U+FFFD, lines are joined.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' || c === '\t' ? ' ' : '\ufffd'));
}

export function table(rawHeaders: readonly string[], rawRows: readonly (readonly string[])[]): string {
  const headers = rawHeaders.map(printable);
  const rows = rawRows.map((r) => r.map(printable));
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[]) => cells.map((cell, c) => cell.padStart(widths[c])).join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}
