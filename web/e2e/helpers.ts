import { expect, type Page } from '@playwright/test';

export const PASSWORD = 'demo-password';

/** The owner of a second workspace that starts empty (made by the test server's setup). */
export const EMPTY_OWNER = 'empty.owner@example.com';

/** Signs in through the sign-in page, as a person would. */
export async function signIn(page: Page, email = 'owner@example.com') {
  await page.goto('/login');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Пароль').fill(PASSWORD);
  await page.getByRole('button', { name: 'Войти' }).click();
  await expect(page.getByRole('heading', { name: /Просрочено/ })).toBeVisible();
}

/** The session's CSRF token, for tests that prepare data through the same public API. */
export async function api<T>(page: Page, method: string, path: string, body?: unknown): Promise<T> {
  return page.evaluate(async ({ method, path, body }) => {
    const me = await (await fetch('/api/v1/me')).json();
    const r = await fetch(`/api/v1/${path}`, {
      method, headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf_token ?? '' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }, { method, path, body }) as Promise<T>;
}

export const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
