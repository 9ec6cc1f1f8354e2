import { useEffect, useState } from 'react';
import { API, apiFetch } from '../api';

export type ColumnKind = 'period' | 'text' | 'id' | 'count' | 'money' | 'percent' | 'days' | 'decimal';
export interface Column { key: string; kind: ColumnKind }
export type Row = Record<string, string | number | null>;
export interface Table { name: string; columns: Column[]; rows: Row[] }
export interface Report {
  report: string;
  from: string;
  to: string;
  group_by: string | null;
  time_zone: string;
  currency: string;
  summary: Row;
  tables: Table[];
  unconverted: { amount: string; currency: string }[];
  ignored_filters: string[];
}

/** What every report of the dashboard is asked with. */
export interface ReportFilters {
  from: string;
  to: string;
  group_by: string;
  pipeline_id: string;
  team_id: string;
  owner_id: string;
}

export const reportQuery = (filters: ReportFilters, extra: Record<string, string> = {}) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v) q.set(k, v);
  return q;
};

/** One report, fetched again whenever its parameters change (older answers are dropped). */
export function useReport(name: string, query: URLSearchParams) {
  const [state, setState] = useState<{ data?: Report; error?: Error; loading: boolean }>({ loading: true });
  const key = `${name}?${query}`;
  useEffect(() => {
    const abort = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    apiFetch<Report>(`reports/${key}`, { signal: abort.signal })
      .then((data) => setState({ data, loading: false }))
      .catch((error: Error) => { if (!abort.signal.aborted) setState({ error, loading: false }); });
    return () => abort.abort();
  }, [key]);
  return state;
}

/** Downloads a report file the API writes (CSV or XLSX), with the session cookie. */
export async function downloadReport(name: string, query: URLSearchParams, format: 'csv' | 'xlsx', table?: string) {
  const q = new URLSearchParams(query);
  q.set('format', format);
  if (table) q.set('table', table);
  const response = await fetch(`${API}/reports/${name}?${q}`, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const disposition = response.headers.get('content-disposition') ?? '';
  const a = document.createElement('a');
  a.href = URL.createObjectURL(await response.blob());
  a.download = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `${name}.${format}`;
  a.click();
  URL.revokeObjectURL(a.href);
}

/** A figure for charts: decimal strings become numbers, nothing stays nothing. */
export const num = (v: string | number | null | undefined): number | null => (v === null || v === undefined || v === '' ? null : Number(v));
