/**
 * Plain-text tables for the demo's summary: columns padded to their widest cell, numbers
 * right-aligned. Below: strings only. Above: scripts/demo.ts, which prints the returned lines.
 */

export interface Column {
  readonly header: string;
  /** @default 'left' */
  readonly align?: 'left' | 'right';
}

/** The table as lines: header, a rule, then one line per row, each indented by `indent`. */
export function formatTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  indent = '  ',
): string[] {
  const widths = columns.map((column, c) =>
    Math.max(column.header.length, ...rows.map((row) => (row[c] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    indent +
    columns
      .map((column, c) => {
        const cell = cells[c] ?? '';
        const width = widths[c] ?? 0;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((column) => column.header)),
    indent + widths.map((width) => '-'.repeat(width)).join('  '),
    ...rows.map(line),
  ];
}
