import { HttpError } from 'react-admin';
import { i18nProvider } from './i18n';

/** The API's RFC 9457 problem document. */
export interface Problem {
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: { field: string; code: string; message: string }[];
  current_version?: number;
}

let csrfToken: string | null = null;

/** The session's CSRF token, sent with every change made with the session cookie. */
export const setCsrfToken = (token: string | null) => {
  csrfToken = token;
};

export const API = '/api/v1';

/**
 * One request to the public API. Problems become react-admin HttpErrors whose body carries
 * per-field errors as translation keys (with the API's English message as the fallback), so
 * forms show them next to their fields in the user's language.
 */
export async function apiFetch<T = unknown>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  if (init.body !== undefined && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  const method = (init.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && csrfToken) headers.set('X-CSRF-Token', csrfToken);
  const response = await fetch(path.startsWith('/') ? path : `${API}/${path}`, { ...init, headers, credentials: 'same-origin' });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const body = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw problemError(response.status, body as Problem | undefined);
  return body as T;
}

export function problemError(status: number, problem: Problem | undefined): HttpError {
  const errors: Record<string, { message: string; args: Record<string, string> }> = {};
  for (const e of problem?.errors ?? []) {
    // Nested fields (emails[0].value) show on their list input.
    const field = e.field.replace(/\[\d+\].*$/, '').replace(/\..*$/, '');
    errors[field] = { message: `accord.errors.${e.code}`, args: { _: e.message } };
  }
  const fallback = problem?.detail ?? `HTTP ${status}`;
  const message = problem?.code ? i18nProvider.translate(`accord.problems.${problem.code}`, { _: fallback }) : fallback;
  return new HttpError(message, status, { ...problem, errors });
}

export const json = (value: unknown) => JSON.stringify(value);

/** The per-field errors of a failed request, translated: field → message. */
export function fieldMessages(error: unknown, translate: (key: string, options?: object) => string): Record<string, string> {
  const errors = ((error as HttpError).body?.errors ?? {}) as Record<string, { message: string; args: object }>;
  return Object.fromEntries(Object.entries(errors).map(([field, e]) => [field, translate(e.message, e.args)]));
}
