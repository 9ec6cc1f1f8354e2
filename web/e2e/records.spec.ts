import { expect, test } from '@playwright/test';
import { api, signIn, unique } from './helpers';

test('create a contact: a bad e-mail is shown at its field, then it saves and edits in place', async ({ page }) => {
  await signIn(page);
  await page.getByRole('menuitem', { name: 'Контакты' }).click();
  await page.getByRole('link', { name: 'Создать' }).click();
  const name = `Тестов${unique()}`;
  await page.getByLabel('Фамилия').fill(name);
  await page.getByLabel('Имя', { exact: true }).fill('Пётр');
  await page.getByRole('button', { name: 'Добавить' }).first().click();
  await page.getByLabel('E-mail').fill('not-an-email');
  await page.getByRole('button', { name: 'Сохранить' }).click();
  await expect(page.getByText(/e-mail|email/i).and(page.locator('.Mui-error')).first()).toBeVisible();
  await page.getByLabel('E-mail').fill('petr@пример.рф');
  await page.getByRole('button', { name: 'Сохранить' }).click();
  await expect(page).toHaveURL(/\/contacts\/\d+$/);
  await expect(page.getByTestId('timeline')).toContainText('Запись создана');

  const id = page.url().split('/').pop();
  await page.getByLabel('Должность').fill('Директор');
  await page.getByRole('button', { name: 'Сохранить' }).click();
  await expect(page.getByText(/обновл/i).first()).toBeVisible();
  await expect(page.getByTestId('history')).toHaveCount(0);
  await page.getByRole('tab', { name: 'История изменений' }).click();
  await expect(page.getByTestId('history')).toContainText('Директор');
  const saved = await api<{ position: string; emails: { value: string }[] }>(page, 'GET', `contacts/${id}`);
  expect(saved.position).toBe('Директор');
  expect(saved.emails[0].value).toContain('@');
});

test('the API\'s own checks show at their field: a company with a bad INN is not saved', async ({ page }) => {
  await signIn(page);
  await page.goto('/companies/create');
  await page.getByRole('textbox', { name: /^Название/ }).fill(`ООО Проверка ${unique()}`);
  await page.getByLabel('ИНН').fill('7707083894');
  await page.getByRole('button', { name: 'Сохранить' }).click();
  await expect(page.getByText('Контрольная цифра не совпадает')).toBeVisible();
  await expect(page).toHaveURL(/\/companies\/create$/);
  await page.getByLabel('ИНН').fill('7707083893');
  await page.getByRole('button', { name: 'Сохранить' }).click();
  await expect(page).toHaveURL(/\/companies\/\d+$/);
});

test('a stale edit is refused and offers a reload instead of overwriting', async ({ page }) => {
  await signIn(page);
  const c = await api<{ id: number; version: number }>(page, 'POST', 'contacts', { last_name: `Конфликт${unique()}` });
  await page.goto(`/contacts/${c.id}`);
  await expect(page.getByLabel('Фамилия')).toHaveValue(/Конфликт/);
  await api(page, 'PATCH', `contacts/${c.id}`, { position: 'Изменено другим', version: c.version });
  await page.getByLabel('Должность').fill('Моё изменение');
  await page.getByRole('button', { name: 'Сохранить' }).click();
  await expect(page.getByText(/Запись изменили/)).toBeVisible();
  const after = await api<{ position: string }>(page, 'GET', `contacts/${c.id}`);
  expect(after.position).toBe('Изменено другим');
});

test('global search answers as you type and opens the record (Ctrl+K)', async ({ page }) => {
  await signIn(page);
  const last = `Поисков${unique()}`;
  await api(page, 'POST', 'contacts', { last_name: last, first_name: 'Иван' });
  await page.keyboard.press('Control+k');
  await expect(page.getByLabel('Поиск по всем записям')).toBeFocused();
  await page.keyboard.type(last.slice(0, 9));
  await page.getByRole('option', { name: new RegExp(last) }).click();
  await expect(page).toHaveURL(/\/contacts\/\d+$/);
  await expect(page.getByLabel('Фамилия')).toHaveValue(last);
});

test('merge two duplicates choosing a value from the other record', async ({ page }) => {
  await signIn(page);
  const tag = unique();
  const a = await api<{ id: number }>(page, 'POST', 'contacts', { last_name: `Дубль${tag}`, first_name: 'Анна', position: 'Бухгалтер' });
  const b = await api<{ id: number }>(page, 'POST', 'contacts?allow_duplicates=true', { last_name: `Дубль${tag}`, first_name: 'Анна', position: 'Главный бухгалтер', emails: ['anna@example.com'] });
  await page.goto(`/contacts/${a.id}`);
  await page.getByRole('button', { name: 'Объединить дубликаты' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Объединить с').fill(`Дубль${tag}`);
  await page.getByRole('option').filter({ hasText: `Дубль${tag}` }).first().click();
  await expect(dialog.getByTestId('merge-table')).toContainText('Главный бухгалтер');
  await dialog.getByLabel('position: Главный бухгалтер').check();
  await dialog.getByRole('button', { name: 'Объединить дубликаты' }).click();
  await expect(page.getByText('Записи объединены')).toBeVisible();
  const survivor = await api<{ position: string; emails: { value: string }[] }>(page, 'GET', `contacts/${a.id}`);
  expect(survivor.position).toBe('Главный бухгалтер');
  expect(survivor.emails.map((e) => e.value)).toContain('anna@example.com');
  const gone = await page.evaluate(async (id) => (await fetch(`/api/v1/contacts/${id}`)).status, b.id);
  expect(gone).toBe(404);
});

test('log a call and add a task from a record page; the task shows in My day', async ({ page }) => {
  await signIn(page);
  const c = await api<{ id: number }>(page, 'POST', 'contacts', { last_name: `Звонков${unique()}` });
  await page.goto(`/contacts/${c.id}`);
  await page.getByRole('button', { name: 'Записать звонок' }).click();
  await page.getByRole('dialog').getByLabel('Тема').fill('Обсудили поставку');
  await page.getByRole('dialog').getByRole('button', { name: 'Сохранить' }).click();
  await expect(page.getByTestId('timeline')).toContainText('Обсудили поставку');

  await page.getByRole('button', { name: 'Добавить задачу' }).click();
  const title = `Перезвонить ${unique()}`;
  await page.getByRole('dialog').getByLabel('Название').fill(title);
  await page.getByRole('dialog').getByRole('button', { name: 'Сохранить' }).click();
  await expect(page.getByTestId('timeline')).toContainText(title);
  await page.getByRole('menuitem', { name: 'Мой день' }).click();
  await expect(page.getByRole('link', { name: new RegExp(title) })).toBeVisible();
});

test('forms check fields as the user leaves them, before any save', async ({ page }) => {
  await signIn(page);
  await page.goto('/deals/create');
  const title = page.getByRole('textbox', { name: /^Название/ });
  await title.fill('x');
  await title.fill('');
  await title.blur();
  await expect(page.getByText('Обязательно для заполнения')).toBeVisible();
  await title.fill('Сделка');
  await expect(page.getByText('Обязательно для заполнения')).toHaveCount(0);

  await page.goto('/companies/create');
  await page.getByRole('button', { name: 'Добавить' }).first().click();
  const email = page.getByLabel('E-mail').first();
  await email.fill('not-an-address');
  await email.blur();
  await expect(page.getByText('Некорректный адрес e-mail')).toBeVisible();
});
