import type { DataProvider, GetListParams, Identifier, RaRecord } from 'react-admin';
import { API, apiFetch, json } from './api';

/** Collections with keyset pages, filters and trash: the records of the API. */
export const RECORDS = ['contacts', 'companies', 'products', 'deals', 'leads', 'activities', 'tasks'] as const;
const isRecord = (resource: string) => (RECORDS as readonly string[]).includes(resource);

/**
 * The API pages with cursors, react-admin with page numbers: the cursor that leads to each
 * page is remembered per list (resource, filters, sort, page size). Pages are reached one
 * after another (next, or infinite scroll), so a cursor is always known; a page whose cursor
 * was forgotten falls back to the first.
 */
const cursors = new Map<string, string>();

function listQuery(params: Pick<GetListParams, 'filter' | 'sort'>, extra: Record<string, string> = {}) {
  const q = new URLSearchParams(extra);
  const { sort, filter } = params;
  if (sort?.field && sort.field !== 'id') q.set('sort', `${sort.order === 'DESC' ? '-' : ''}${sort.field}`);
  for (const [key, value] of Object.entries(filter ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    if (key === 'q') continue;
    q.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  return q;
}

/** The free-text filter of a list: the record ids search finds, for the list's other filters. */
async function searchIds(resource: string, q: string): Promise<string | null> {
  const entity = { contacts: 'contact', companies: 'company', products: 'product', deals: 'deal', leads: 'lead' }[resource];
  if (!entity || !q.trim()) return null;
  const res = await apiFetch<{ data: { id: number }[] }>(`search?${new URLSearchParams({ q, entity, limit: '100' })}`);
  return res.data.map((h) => h.id).join(',') || '0';
}

/** The address of the current view (filters, search, sort) as a CSV, XLSX or vCard export. */
export async function exportUrl(resource: string, filter: Record<string, unknown>, sort: GetListParams['sort'], format: 'csv' | 'xlsx' | 'vcf') {
  const { trash: _trash, q: text, ...rest } = filter;
  const query = listQuery({ filter: rest, sort }, { format });
  if (text) {
    const ids = await searchIds(resource, String(text));
    if (ids !== null) query.set('id[in]', ids);
  }
  return `${API}/exports/${resource}?${query}`;
}

/** Members are users: their id is the user's. */
const withId = (r: RaRecord & { user_id?: number }): RaRecord => (r.id === undefined && r.user_id !== undefined ? { ...r, id: r.user_id } : r);

/** Endpoints that answer a plain array: settings lists, small by nature. */
async function arrayList(resource: string, params: GetListParams) {
  const all = (await apiFetch<RaRecord[]>(resource)).map(withId);
  const { field, order } = params.sort ?? { field: 'id', order: 'ASC' };
  const sorted = [...all].sort((a, b) => {
    const x = a[field], y = b[field];
    const c = x === y ? 0 : x > y ? 1 : -1;
    return order === 'DESC' ? -c : c;
  });
  const { page, perPage } = params.pagination ?? { page: 1, perPage: 1000 };
  return { data: sorted.slice((page - 1) * perPage, page * perPage), total: all.length };
}

export const dataProvider = {
  async getList(resource, params) {
    if (!isRecord(resource)) return arrayList(resource, params);
    const { page, perPage } = params.pagination ?? { page: 1, perPage: 25 };
    const { trash, q: text, ...filter } = params.filter ?? {};
    const query = listQuery({ ...params, filter }, { limit: String(perPage) });
    if (text) {
      const ids = await searchIds(resource, String(text));
      if (ids !== null) query.set('id[in]', ids);
    }
    const key = `${resource}${trash ? '/trash' : ''}?${query}`;
    const cursor = page > 1 ? cursors.get(`${key}#${page}`) : undefined;
    if (cursor) query.set('cursor', cursor);
    const res = await apiFetch<{ data: RaRecord[]; next_cursor: string | null }>(`${resource}${trash ? '/trash' : ''}?${query}`);
    if (res.next_cursor) cursors.set(`${key}#${page + 1}`, res.next_cursor);
    return { data: res.data, pageInfo: { hasNextPage: !!res.next_cursor, hasPreviousPage: page > 1 && !!cursor } };
  },

  async getOne(resource, { id }) {
    // The workspace of the session is a single record.
    if (resource === 'workspace') return { data: { ...(await apiFetch<object>('workspace')), id } };
    return { data: await apiFetch(`${resource}/${id}`) };
  },

  async getMany(resource, { ids }) {
    if (!ids.length) return { data: [] };
    if (!isRecord(resource)) {
      const all = (await apiFetch<RaRecord[]>(resource)).map(withId);
      return { data: all.filter((r) => ids.map(String).includes(String(r.id))) };
    }
    const q = new URLSearchParams({ 'id[in]': ids.join(','), limit: String(Math.min(ids.length, 500)) });
    return { data: (await apiFetch<{ data: RaRecord[] }>(`${resource}?${q}`)).data };
  },

  async getManyReference(resource, params) {
    return dataProvider.getList(resource, { ...params, filter: { ...params.filter, [params.target]: params.id } });
  },

  async create(resource, { data }) {
    return { data: await apiFetch(resource, { method: 'POST', body: json(data) }) };
  },

  async update(resource, { id, data, previousData }) {
    // Only what changed is sent, with the version it was read at: a stale version is a 409,
    // never a silent overwrite.
    const changes: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) {
      if (['id', 'created_at', 'updated_at', 'display_name'].includes(k)) continue;
      if (JSON.stringify(v) !== JSON.stringify(previousData?.[k])) changes[k] = v;
    }
    if (previousData?.version !== undefined) changes.version = previousData.version;
    const method = resource === 'teams' ? 'PUT' : 'PATCH';
    return { data: await apiFetch(`${resource}/${id}`, { method, body: json(changes) }) };
  },

  async updateMany(resource, { ids, data }) {
    const done: Identifier[] = [];
    for (const id of ids) {
      const current = await apiFetch<RaRecord>(`${resource}/${id}`);
      const merged = { ...data };
      if (Array.isArray(data.add_tags)) {
        delete merged.add_tags;
        merged.tags = Array.from(new Set([...(current.tags ?? []), ...data.add_tags]));
      }
      await apiFetch(`${resource}/${id}`, { method: 'PATCH', body: json({ ...merged, version: current.version }) });
      done.push(id);
    }
    return { data: done };
  },

  async delete(resource, { id, previousData }) {
    await apiFetch(`${resource}/${id}`, { method: 'DELETE' });
    return { data: previousData as RaRecord };
  },

  async deleteMany(resource, { ids }) {
    for (const id of ids) await apiFetch(`${resource}/${id}`, { method: 'DELETE' });
    return { data: ids };
  },
} as DataProvider;
