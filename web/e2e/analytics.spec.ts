import { expect, test, type Page } from '@playwright/test';
import { api, signIn } from './helpers';

interface Report { summary: Record<string, string | number | null>; tables: { name: string; rows: Record<string, unknown>[] }[] }

/** Adds a goal for a user on the settings page, as an admin would. */
async function addGoal(page: Page, user: string, target: string) {
  await page.goto('/settings');
  await page.getByRole('tab', { name: 'Цели' }).click();
  await page.getByLabel('Для кого').click();
  await page.getByRole('option', { name: user }).click();
  await page.getByLabel('План', { exact: true }).fill(target);
  await page.getByRole('button', { name: 'Добавить' }).click();
}

const digits = (s: string) => s.replace(/\D/g, '');

/** The tile shows the API's figure, rounded to whole roubles. */
async function expectTile(page: Page, key: string, amount: string | number | null) {
  const expected = String(Math.round(Number(amount ?? 0)));
  await expect.poll(async () => digits(await page.getByTestId(`kpi-${key}`).innerText())).toBe(expected);
}

test('analytics: tiles and charts show the report API figures, as a table and as a download', async ({ page }) => {
  await signIn(page);
  await page.getByRole('menuitem', { name: 'Аналитика' }).click();
  await expect(page.getByRole('heading', { name: 'Выручка и средний чек' })).toBeVisible();
  const revenue = await api<Report>(page, 'GET', 'reports/revenue?group_by=month');
  expect(Number(revenue.summary.won_deals)).toBeGreaterThan(0);
  await expectTile(page, 'revenue', revenue.summary.revenue);
  await expectTile(page, 'won_deals', revenue.summary.won_deals);
  // Every chart is drawn (an SVG per chart card).
  for (const name of ['revenue', 'funnel', 'forecast', 'win_rate', 'lost_reasons', 'sales_cycle', 'products', 'conversion', 'purchase_frequency', 'churn']) {
    await expect(page.getByTestId(`report-${name}`).locator('svg.recharts-surface').first()).toBeVisible();
  }
  await expect(page.getByTestId('report-leaderboard').locator('tbody tr').first()).toBeVisible();

  // The revenue chart as a table: one row a month, the same figures.
  const card = page.getByTestId('report-revenue');
  await card.getByRole('button', { name: 'Показать таблицей' }).click();
  await expect(card.getByRole('columnheader', { name: 'Период' })).toBeVisible();
  await expect(card.locator('tbody tr')).toHaveCount(revenue.tables[0].rows.length);

  // The funnel as a table: a row per stage, with the API's figures.
  const funnel = await api<Report>(page, 'GET', 'reports/funnel');
  const funnelCard = page.getByTestId('report-funnel');
  await funnelCard.getByRole('button', { name: 'Показать таблицей' }).click();
  await expect(funnelCard.locator('tbody tr')).toHaveCount(funnel.tables[0].rows.length);
  const firstStage = funnel.tables[0].rows[0];
  await expect(funnelCard.locator('tbody tr').first()).toContainText(String(firstStage.stage));
  await expect(funnelCard.locator('tbody tr').first()).toContainText(String(firstStage.entered));
  await expect(funnelCard.locator('tbody tr').first()).toContainText('Открытый');

  // CSV and XLSX come from the API with the same parameters.
  const [csv] = await Promise.all([page.waitForEvent('download'), card.getByRole('button', { name: 'Скачать CSV' }).click()]);
  expect(csv.suggestedFilename()).toMatch(/^accord-revenue-.*\.csv$/);
  const text = await (await csv.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString('utf8'));
  expect(text.replace(/^\uFEFF/, '').split(/\r?\n/)[0]).toBe('period,won_deals,revenue,average_deal');
  const [xlsx] = await Promise.all([page.waitForEvent('download'), card.getByRole('button', { name: 'Скачать XLSX' }).click()]);
  expect(xlsx.suggestedFilename()).toMatch(/\.xlsx$/);

  // "My numbers" narrows every figure to the signed-in user's records.
  const me = await api<{ user: { id: number } }>(page, 'GET', 'me');
  const mine = await api<Report>(page, 'GET', `reports/revenue?owner_id=${me.user.id}`);
  await page.getByLabel('Мои показатели').check();
  await expectTile(page, 'revenue', mine.summary.revenue);

  // A quarter view has four or five periods in a year.
  await page.getByLabel('Мои показатели').uncheck();
  await page.getByLabel('Группировать').click();
  await page.getByRole('option', { name: 'По кварталам' }).click();
  await expect.poll(() => card.locator('tbody tr').count()).toBeLessThanOrEqual(5);
});

test('a salesperson starts on their own numbers; a manager sees the team\'s', async ({ page }) => {
  await signIn(page, 'sales1.msk@example.com');
  await page.goto('/analytics');
  await expect(page.getByLabel('Мои показатели')).toBeChecked();
  const me = await api<{ user: { id: number } }>(page, 'GET', 'me');
  const mine = await api<Report>(page, 'GET', `reports/revenue?owner_id=${me.user.id}`);
  await expectTile(page, 'revenue', mine.summary.revenue);

  await page.context().clearCookies();
  await signIn(page, 'manager.msk@example.com');
  await page.goto('/analytics');
  await expect(page.getByLabel('Мои показатели')).not.toBeChecked();
  const team = await api<Report>(page, 'GET', 'reports/revenue');
  await expectTile(page, 'won_deals', team.summary.won_deals);
  await expectTile(page, 'revenue', team.summary.revenue);
});

test('an admin sets a monthly goal in settings; the dashboard shows its progress', async ({ page }) => {
  await signIn(page);
  await addGoal(page, 'Дмитрий Орлов', '1000000');
  await expect(page.getByLabel('План: Дмитрий Орлов')).toHaveValue('1000000');
  const goals = await api<{ id: number; user_id: number; actual: string; percent: string | null }[]>(page, 'GET', 'goals');
  const goal = goals.find((g) => g.user_id !== null);
  if (!goal) throw new Error('the goal was not saved');

  await page.goto('/analytics');
  const row = page.getByTestId(`goal-${goal.id}`);
  await expect(row).toContainText('Дмитрий Орлов');
  await expect(row).toContainText('Сумма выигранных');
  await expect(row.getByRole('progressbar')).toHaveAttribute('aria-valuenow', String(Math.round(Math.min(100, Number(goal.percent ?? 0)))));
  // A second goal for the same person, metric and month is refused, in the user's language.
  await addGoal(page, 'Дмитрий Орлов', '5');
  await expect(page.getByText(/period_start: Уже занято/)).toBeVisible();
});
