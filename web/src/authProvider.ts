import type { AuthProvider } from 'react-admin';
import { apiFetch, json, setCsrfToken } from './api';

export interface Me {
  user: { id: number; email: string; name: string; locale?: string; time_zone?: string };
  workspace_id: number;
  workspace_name: string;
  region: string;
  role: 'owner' | 'admin' | 'manager' | 'member' | 'read_only';
  csrf_token: string | null;
}

let me: Me | null = null;
export const currentUser = () => me;
/** Keeps the cached profile in step with a saved change (dates follow a new time zone at once). */
export const updateCurrentUser = (user: Partial<Me['user']>) => {
  if (me) me = { ...me, user: { ...me.user, ...user } };
};

async function loadMe(): Promise<Me> {
  me = await apiFetch<Me>('me');
  setCsrfToken(me.csrf_token);
  return me;
}

/** Sign-in with the session cookie of the API; the cookie itself is HttpOnly. */
export const authProvider: AuthProvider = {
  async login({ username, password, remember }) {
    me = await apiFetch<Me>('auth/login', { method: 'POST', body: json({ email: username, password, remember: !!remember }) });
    setCsrfToken(me.csrf_token);
  },
  async logout() {
    if (me) await apiFetch('auth/logout', { method: 'POST' }).catch(() => undefined);
    me = null;
    setCsrfToken(null);
  },
  async checkAuth() {
    if (!me) await loadMe();
  },
  async checkError(error) {
    if (error?.status === 401) {
      me = null;
      throw error;
    }
  },
  async getIdentity() {
    const m = me ?? (await loadMe());
    return { id: m.user.id, fullName: m.user.name || m.user.email };
  },
  async getPermissions() {
    const m = me ?? (await loadMe());
    return m.role;
  },
};

export const isAdmin = (role: unknown) => role === 'owner' || role === 'admin';
export const canWrite = (role: unknown) => role !== 'read_only';
