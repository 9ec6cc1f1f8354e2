import { expect, test } from '@playwright/test';
import { api, signIn, unique } from './helpers';

interface View { id: number; name: string; params: Record<string, string>; columns: string[] }

test('a list\'s filters, sort and columns are saved as a view and brought back from the menu', async ({ page }) => {
  await signIn(page);
  const name = `Выигранные ${unique()}`;
  await page.goto(`/deals?filter=${encodeURIComponent(JSON.stringify({ status: 'won' }))}&sort=amount&order=DESC`);
  await expect(page.getByRole('row').nth(1)).toBeVisible();
  await page.getByRole('button', { name: 'Виды' }).click();
  await page.getByRole('menuitem', { name: 'Сохранить текущий вид…' }).click();
  await page.getByLabel('Название вида').fill(name);
  await page.getByRole('button', { name: 'Сохранить' }).click();
  await expect(page.getByText('Вид сохранён')).toBeVisible();
  const saved = (await api<View[]>(page, 'GET', 'views?entity=deals')).find((v) => v.name === name);
  expect(saved?.params).toEqual({ status: 'won', sort: '-amount' });
  expect(saved?.columns).toContain('title');

  await page.goto(`/deals?filter=${encodeURIComponent('{}')}&sort=updated_at&order=DESC`);
  await page.getByRole('button', { name: 'Виды' }).click();
  await page.getByRole('menuitem', { name }).click();
  await expect(page).toHaveURL(/sort=amount/);
  await expect(page).toHaveURL(/order=DESC/);
  expect(decodeURIComponent(page.url())).toContain('"status":"won"');

  await page.getByRole('button', { name: 'Виды' }).click();
  await page.getByRole('button', { name: `Удалить: ${name}` }).click();
  await expect(page.getByText('Вид удалён')).toBeVisible();
  expect((await api<View[]>(page, 'GET', 'views?entity=deals')).some((v) => v.name === name)).toBe(false);
});
