import { expect, test } from '@playwright/test';
import { api, signIn, unique } from './helpers';

/** Windows-1251, as Russian Excel saves "CSV": Cyrillic letters are one byte each. */
function cp1251(text: string): Buffer {
  return Buffer.from([...text].map((ch) => {
    const c = ch.codePointAt(0) ?? 63;
    if (c < 128) return c;
    if (c >= 0x410 && c <= 0x44f) return c - 0x410 + 0xc0;
    if (c === 0x401) return 0xa8;
    if (c === 0x451) return 0xb8;
    return 63;
  }));
}

test('import: a Russian spreadsheet is checked, imported, shown in the list and undone', async ({ page }) => {
  await signIn(page);
  const tag = `imp${unique()}`;
  const csv = `Фамилия;Имя;E-mail;Теги;Комментарий\r\nИмпортов;Пётр;petr.${tag}@example.ru;${tag};первый\r\nЗагрузкин;Олег;не-почта;${tag};\r\nВыгрузкина;Анна;anna.${tag}@example.ru;${tag};\r\n`;
  await page.getByRole('menuitem', { name: 'Импорт' }).click();
  // A PDF chosen by mistake is refused with the reason, and nothing is uploaded.
  const pdf = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\nstream\nx\x9c\x03\x00\x00\x00\x00\x01\nendstream\n', 'latin1');
  await page.getByTestId('import-file').setInputFiles({ name: 'контакты.pdf', mimeType: 'application/pdf', buffer: pdf });
  await expect(page.getByText('Файл не читается: это не CSV, XLSX или vCard')).toBeVisible();
  await expect(page.getByTestId('import-detected')).toHaveCount(0);
  await page.getByTestId('import-file').setInputFiles({ name: 'контакты.csv', mimeType: 'text/csv', buffer: cp1251(csv) });
  await expect(page.getByTestId('import-detected')).toContainText('windows-1251');
  await expect(page.getByTestId('import-detected')).toContainText('3 строки');
  // The columns were matched to fields; the user can still change any of them.
  await expect(page.getByRole('combobox', { name: 'Фамилия' })).toContainText('Фамилия');
  await expect(page.getByRole('combobox', { name: 'E-mail' })).toContainText('E-mail');

  await page.getByRole('button', { name: 'Проверить' }).click();
  await expect(page.getByTestId('import-status')).toHaveText('Проверен: пока ничего не записано');
  await expect(page.getByTestId('check-counts')).toHaveText('будет создано: 2 · будет обновлено: 0 · будет пропущено: 0 · с ошибками: 1');
  if (process.env.ACCORD_SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.ACCORD_SCREENSHOT_DIR}/import.png`, fullPage: true });
  const problems = page.getByTestId('check-problems');
  await expect(problems).toContainText('E-mail');
  await expect(problems).toContainText('Неверный адрес e-mail');

  await page.getByRole('button', { name: 'Импортировать' }).click();
  await expect(page.getByTestId('import-status')).toHaveText('Импортирован');
  await expect(page.getByTestId('run-counts')).toHaveText('создано: 2 · обновлено: 0 · пропущено: 0 · с ошибками: 1');
  const listed = await api<{ data: { last_name: string }[] }>(page, 'GET', `contacts?tag=${tag}`);
  expect(listed.data.map((c) => c.last_name).sort()).toEqual(['Выгрузкина', 'Импортов']);

  // The imported records are in the list; undoing the import takes them away.
  await page.goto(`/contacts?filter=${encodeURIComponent(JSON.stringify({ tag }))}`);
  await expect(page.getByText('Импортов').first()).toBeVisible();
  await page.getByRole('menuitem', { name: 'Импорт' }).click();
  await page.getByRole('cell', { name: 'контакты.csv' }).first().click();
  await page.getByRole('button', { name: 'Отменить этот импорт' }).click();
  await expect(page.getByTestId('undo-result')).toContainText('2 записей перемещено в корзину');
  expect((await api<{ data: unknown[] }>(page, 'GET', `contacts?tag=${tag}`)).data).toHaveLength(0);
});

test('export: the list view downloads as CSV from the server, with its filter', async ({ page }) => {
  await signIn(page);
  const tag = `exp${unique()}`;
  await api(page, 'POST', 'contacts?allow_duplicates=true', { last_name: 'Экспортов', first_name: '=1+1', tags: [tag] });
  await page.goto(`/contacts?filter=${encodeURIComponent(JSON.stringify({ tag }))}`);
  await expect(page.getByText('Экспортов').first()).toBeVisible();
  await page.getByRole('button', { name: 'Экспорт' }).click();
  const download = page.waitForEvent('download');
  await page.getByRole('menuitem', { name: 'CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('accord-contacts.csv');
  const text = (await (await file.createReadStream()).toArray()).map((b) => Buffer.from(b).toString('utf8')).join('');
  const lines = text.replace(/^\uFEFF/, '').trim().split(/\r?\n/);
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain('Экспортов');
  expect(lines[1]).toContain("'=1+1");
});

test('duplicates: a group found across alphabets is merged into the record kept', async ({ page }) => {
  await signIn(page);
  const tag = unique();
  // Surnames no demo contact has, in Cyrillic and in Latin letters.
  const first = await api<{ id: number }>(page, 'POST', 'contacts?allow_duplicates=true', { last_name: `Дублев${tag}`, first_name: 'Пётр', emails: [`d${tag}@example.ru`] });
  await api(page, 'POST', 'contacts?allow_duplicates=true', { last_name: `Dublev${tag}`, first_name: 'Petr' });
  await page.getByRole('menuitem', { name: 'Дубликаты' }).click();
  await expect(page.getByTestId('data-quality')).toContainText('нет компании');
  const group = page.getByTestId('duplicate-group').filter({ hasText: `Дублев${tag}` });
  await expect(group).toContainText('похожее имя');
  await expect(group).toContainText(`Dublev${tag}`);
  await group.getByRole('checkbox', { name: 'Объединить эту группу' }).check();
  await page.getByRole('button', { name: /Объединить выбранную группу/ }).click();
  await expect(page.getByTestId('merge-result')).toContainText('Объединена 1 запись');
  await expect(page.getByTestId('duplicate-group').filter({ hasText: `Дублев${tag}` })).toHaveCount(0);
  const survivor = await api<{ last_name: string }>(page, 'GET', `contacts/${first.id}`);
  expect(survivor.last_name).toBe(`Дублев${tag}`);
});
