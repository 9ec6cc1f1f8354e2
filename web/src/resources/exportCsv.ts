import type { SortPayload, TranslateFunction } from 'react-admin';
import { dataProvider } from '../dataProvider';

const MAX_ROWS = 50_000;

/** Spreadsheets run cells that start like a formula; such cells get a leading apostrophe. */
const cell = (value: unknown): string => {
  let s = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The current view (its filters and sort, as the caller may see it) as a CSV download. */
export async function exportCsv(resource: string, filter: Record<string, unknown>, sort: SortPayload, translate: TranslateFunction) {
  const rows: Record<string, unknown>[] = [];
  for (let page = 1; rows.length < MAX_ROWS; page++) {
    const res = await dataProvider.getList(resource, { pagination: { page, perPage: 500 }, sort, filter });
    rows.push(...res.data);
    if (!res.pageInfo?.hasNextPage) break;
  }
  const columns = Array.from(rows.reduce((set, r) => { Object.keys(r).forEach((k) => set.add(k)); return set; }, new Set<string>()))
    .filter((c) => !c.endsWith('_f') && c !== 'custom_fields');
  const header = columns.map((c) => cell(translate(`resources.${resource}.fields.${c}`, { _: c })));
  const lines = [header.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))];
  const blob = new Blob(['\uFEFF' + lines.join('\r\n')], { type: 'text/csv;charset=utf-8' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${resource}.csv`;
  a.click();
  URL.revokeObjectURL(a.href);
}
