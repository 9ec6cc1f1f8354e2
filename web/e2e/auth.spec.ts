import { expect, test } from '@playwright/test';
import { PASSWORD, signIn } from './helpers';

test('a wrong password is refused; the right one signs in and out', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel('E-mail').fill('owner@example.com');
  await page.getByLabel('Пароль').fill('wrong-password');
  await page.getByRole('button', { name: 'Войти' }).click();
  await expect(page.getByText(/неверн|invalid|wrong/i).first()).toBeVisible();
  await expect(page).toHaveURL(/\/login/);

  await page.getByLabel('Пароль').fill(PASSWORD);
  await page.getByLabel('Запомнить меня').check();
  await page.getByRole('button', { name: 'Войти' }).click();
  await expect(page.getByRole('heading', { name: /Просрочено/ })).toBeVisible();
  const cookie = (await page.context().cookies()).find((c) => c.name.startsWith('accord'));
  expect(cookie?.expires ?? 0).toBeGreaterThan(Date.now() / 1000 + 20 * 24 * 3600);

  await page.getByRole('button', { name: 'Профиль' }).click();
  await page.getByRole('menuitem', { name: 'Выйти' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/contacts');
  await expect(page).toHaveURL(/\/login/);
});

test('the language switches to English and back, and every menu entry follows', async ({ page }) => {
  await signIn(page);
  await page.getByRole('button', { name: 'Русский' }).click();
  await page.getByRole('menuitem', { name: 'English' }).click();
  await expect(page.getByRole('menuitem', { name: 'Contacts' })).toBeVisible();
  await expect(page.getByRole('menuitem', { name: 'Deal board' })).toBeVisible();
  await expect(page.getByRole('heading', { name: /Overdue/ })).toBeVisible();
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('menuitem', { name: 'Русский' }).click();
  await expect(page.getByRole('menuitem', { name: 'Контакты' })).toBeVisible();
});

test('a read-only user sees records but no create or settings', async ({ page }) => {
  await signIn(page, 'auditor@example.com');
  await expect(page.getByRole('menuitem', { name: 'Настройки' })).toHaveCount(0);
  await page.getByRole('menuitem', { name: 'Контакты' }).click();
  await expect(page.locator('tbody tr').first()).toBeVisible();
  await expect(page.getByRole('link', { name: 'Создать' })).toHaveCount(0);
});
