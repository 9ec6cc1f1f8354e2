import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

test('on a phone, lists become cards and the board scrolls sideways', async ({ page }) => {
  await signIn(page);
  await page.goto('/contacts');
  // Cards (a list of links), not a table.
  await expect(page.locator('table')).toHaveCount(0);
  await expect(page.getByRole('link').filter({ hasText: /@/ }).first()).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  // The app bar keeps the search, the bell and the user menu on screen.
  for (const control of [page.getByRole('combobox', { name: 'Поиск по всем записям' }), page.getByRole('button', { name: 'Непрочитанные уведомления' }), page.getByRole('button', { name: 'Профиль' })]) {
    await expect(control).toBeInViewport({ ratio: 1 });
  }

  await page.goto('/board');
  const board = page.getByTestId('board');
  await expect(board.locator('[data-testid^="column-"]').first()).toBeVisible();
  const { scrollWidth, clientWidth } = await board.evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
  expect(scrollWidth).toBeGreaterThan(clientWidth);

  // Analytics: charts and wide tables stay inside the screen (tables scroll in their cards).
  await page.goto('/analytics');
  await expect(page.getByTestId('report-churn-1').locator('tbody tr').first()).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

  const manifest = await page.evaluate(async () => (await fetch('/manifest.webmanifest')).json());
  expect(manifest.display).toBe('standalone');
});
