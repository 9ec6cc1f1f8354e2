import { expect, test } from '@playwright/test';
import { PASSWORD, api, signIn, unique } from './helpers';

interface Contact { id: number; tags: string[]; owner_id: number }

test('bulk actions on a list: add a tag, assign an owner, delete, and restore from the trash', async ({ page }) => {
  await signIn(page);
  const mark = `bulk${unique()}`;
  const ids: number[] = [];
  for (const last of ['Массовый', 'Групповой']) {
    ids.push((await api<{ id: number }>(page, 'POST', 'contacts?allow_duplicates=true', { last_name: `${last} ${mark}`, tags: [mark] })).id);
  }
  await page.goto(`/contacts?filter=${encodeURIComponent(JSON.stringify({ tag: mark }))}`);
  await expect(page.getByRole('row')).toHaveCount(3);
  await page.getByRole('checkbox', { name: 'Выбрать все' }).check();
  await page.getByRole('button', { name: 'Добавить тег' }).click();
  await page.getByRole('dialog').getByLabel('Тег').fill('опт');
  await page.getByRole('button', { name: 'Подтвердить' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect.poll(async () => (await api<Contact>(page, 'GET', `contacts/${ids[1]}`)).tags).toEqual([mark, 'опт']);

  const users = await api<{ user_id: number; name: string }[]>(page, 'GET', 'users');
  const olga = users.find((u) => u.name === 'Ольга Кузнецова');
  await page.getByRole('checkbox', { name: 'Выбрать все' }).check();
  await page.getByRole('button', { name: 'Назначить ответственного' }).click();
  await page.getByRole('dialog').getByLabel('Ответственный').selectOption({ label: 'Ольга Кузнецова' });
  await page.getByRole('button', { name: 'Подтвердить' }).click();
  await expect.poll(async () => (await api<Contact>(page, 'GET', `contacts/${ids[0]}`)).owner_id).toBe(olga?.user_id);

  await page.getByRole('checkbox', { name: 'Выбрать все' }).check();
  await page.getByRole('button', { name: 'Удалить' }).click();
  await page.getByRole('dialog').getByRole('button', { name: /Подтвердить|Удалить/ }).click();
  await expect(page.getByRole('row')).toHaveCount(0);
  // A record in the trash keeps no tags (nor search words); the trash is looked through as it is.
  await page.goto(`/contacts?filter=${encodeURIComponent(JSON.stringify({ trash: true }))}`);
  await page.getByRole('row').filter({ hasText: `Массовый ${mark}` }).getByRole('button', { name: 'Восстановить' }).click();
  await expect(page.getByText('Восстановлено из корзины')).toBeVisible();
  const back = await page.evaluate(async (id) => (await fetch(`/api/v1/contacts/${id}`)).status, ids[0]);
  expect(back).toBe(200);
});

test('an admin invites a colleague, who joins with the link, signs in and keeps a token', async ({ page, browser }) => {
  await signIn(page);
  await page.getByRole('menuitem', { name: 'Настройки' }).click();
  await page.getByRole('tab', { name: 'Пользователи' }).click();
  const email = `new.${unique()}@example.com`;
  await page.getByLabel('E-mail').fill(email);
  await page.getByRole('button', { name: 'Пригласить' }).click();
  const link = await page.getByTestId('invitation-link').innerText();

  const colleague = await browser.newContext({ locale: 'ru-RU', timezoneId: 'Europe/Moscow' });
  const them = await colleague.newPage();
  await them.goto(link);
  await them.getByLabel('Ваше имя').fill('Новый Коллега');
  await them.getByLabel('Пароль').fill(PASSWORD);
  await them.getByRole('button', { name: 'Принять' }).click();
  await expect(them.getByText('Добро пожаловать!')).toBeVisible();
  await signIn(them, email);
  await them.getByRole('button', { name: 'Профиль' }).click();
  await them.getByRole('menuitem', { name: 'Мой профиль' }).click();
  await them.getByLabel('Название').fill('скрипт выгрузки');
  await them.getByRole('button', { name: 'Создать токен' }).click();
  await expect(them.getByText('Скопируйте токен сейчас')).toBeVisible();
  await expect(them.getByText(/скрипт выгрузки/)).toBeVisible();
  await colleague.close();
});

test('a reminder arrives as a notification with an unread badge, and is read', async ({ page }) => {
  await signIn(page);
  const me = await api<{ user: { id: number } }>(page, 'GET', 'me');
  const due = new Date(Date.now() + 2 * 60_000).toISOString();
  await api(page, 'POST', 'tasks', { title: `Напоминание ${unique()}`, due_at: due, remind_before_minutes: 10, owner_id: me.user.id });
  await expect.poll(async () => (await api<{ unread_count: number }>(page, 'GET', 'notifications/unread_count')).unread_count, { timeout: 30_000 }).toBeGreaterThan(0);
  await page.reload();
  const badge = page.getByTestId('unread-badge');
  await expect(badge).not.toHaveText('0');
  await page.getByRole('button', { name: 'Непрочитанные уведомления' }).click();
  await page.getByRole('button', { name: 'Прочитать все' }).click();
  await expect.poll(async () => (await api<{ unread_count: number }>(page, 'GET', 'notifications/unread_count')).unread_count).toBe(0);
});

test('settings: a tag is renamed on every record that has it', async ({ page }) => {
  await signIn(page);
  const tag = `тег${unique()}`;
  const ids: number[] = [];
  for (const last of ['Теговый', 'Метков']) ids.push((await api<{ id: number }>(page, 'POST', 'contacts?allow_duplicates=true', { last_name: last, tags: [tag] })).id);
  await page.getByRole('menuitem', { name: 'Настройки' }).click();
  await page.getByRole('tab', { name: 'Теги' }).click();
  const row = page.getByRole('row').filter({ hasText: tag });
  await expect(row).toContainText('2');
  await row.getByLabel(`Новое название (или существующий тег — объединить): ${tag}`).fill(`${tag}-новый`);
  await row.getByRole('button', { name: 'Переименовать' }).click();
  await expect(page.getByRole('row').filter({ hasText: `${tag}-новый` })).toBeVisible();
  for (const id of ids) expect((await api<Contact>(page, 'GET', `contacts/${id}`)).tags).toEqual([`${tag}-новый`]);
});
