import { expect, test } from '@playwright/test';
import { api, signIn, unique } from './helpers';

test('dates show and are typed on the clock of the profile\'s time zone, not the browser\'s', async ({ page }) => {
  // The browser runs in Moscow (UTC+3); this person works from Vladivostok (UTC+10).
  await signIn(page, 'sales1.spb@example.com');
  await api(page, 'PATCH', 'me', { time_zone: 'Asia/Vladivostok' });
  try {
    const title = `Созвон ${unique()}`;
    const task = await api<{ id: number }>(page, 'POST', 'tasks', { title, due_at: '2030-01-15T09:00:00Z' });
    await page.goto(`/tasks/${task.id}`);
    const due = page.getByLabel('Срок');
    await expect(due).toHaveValue('2030-01-15T19:00');
    await due.fill('2030-01-16T10:00');
    await page.getByRole('button', { name: 'Сохранить' }).click();
    await expect(page.getByText('Элемент обновлен')).toBeVisible();
    const saved = await api<{ due_at: string }>(page, 'GET', `tasks/${task.id}`);
    expect(new Date(saved.due_at).toISOString()).toBe('2030-01-16T00:00:00.000Z');
    await page.goto('/tasks?sort=due_at&order=DESC');
    await expect(page.getByRole('row').filter({ hasText: title })).toContainText('16.01.2030, 10:00');
  } finally {
    await api(page, 'PATCH', 'me', { time_zone: 'Europe/Moscow' });
  }
});
