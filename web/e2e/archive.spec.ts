import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { EMPTY_OWNER, api, signIn } from './helpers';

test('archive: the demo workspace downloads as one file and restores into an empty workspace', async ({ page }) => {
  await signIn(page);
  await page.getByRole('menuitem', { name: 'Настройки' }).click();
  await page.getByRole('tab', { name: 'Архив' }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Скачать архив' }).click()]);
  const path = await download.path();
  expect(download.suggestedFilename()).toMatch(/^accord-workspace-.*\.zip$/);
  expect(readFileSync(path).subarray(0, 2).toString()).toBe('PK');
  const demo = await api<{ data: { display_name: string }[] }>(page, 'GET', 'contacts?sort=last_name&limit=3');

  // The demo holds records, so it takes no archive; an empty workspace does.
  await page.getByLabel('Файл архива').setInputFiles(path);
  await page.getByRole('button', { name: 'Восстановить' }).click();
  await expect(page.getByText('Архив восстанавливается только в пространство без записей')).toBeVisible();
  await page.getByLabel('Файл архива').setInputFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip') });
  await page.getByRole('button', { name: 'Восстановить' }).click();
  await expect(page.getByText(/Это не архив рабочего пространства Accord/)).toBeVisible();

  await page.context().clearCookies();
  await signIn(page, EMPTY_OWNER);
  await page.getByRole('menuitem', { name: 'Настройки' }).click();
  await page.getByRole('tab', { name: 'Архив' }).click();
  await page.getByLabel('Файл архива').setInputFiles(path);
  await page.getByRole('button', { name: 'Восстановить' }).click();
  await expect(page.getByText(/Восстановлено строк: \d+/)).toBeVisible({ timeout: 60_000 });
  const copy = await api<{ data: { display_name: string }[] }>(page, 'GET', 'contacts?sort=last_name&limit=3');
  expect(copy.data.map((c) => c.display_name)).toEqual(demo.data.map((c) => c.display_name));
  await page.getByRole('menuitem', { name: 'Контакты' }).click();
  await expect(page.getByText(demo.data[0].display_name).first()).toBeVisible();
});
