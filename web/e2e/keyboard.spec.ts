import { expect, test, type Page } from '@playwright/test';
import { PASSWORD, unique } from './helpers';

/** Presses Tab until the control named `name` has the focus, as a keyboard user moves. */
async function tabTo(page: Page, name: string | RegExp, limit = 40) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const here = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el) return '';
      const labelled = el.getAttribute('aria-label') ?? (el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null);
      return (labelled ?? el.textContent ?? '').trim();
    });
    if (typeof name === 'string' ? here.startsWith(name) : name.test(here)) return;
  }
  throw new Error(`Tab never reached ${name}`);
}

test('a working session by keyboard alone: sign in, find a client, open them, add a contact', async ({ page }) => {
  await page.goto('/login');
  await tabTo(page, 'E-mail');
  await page.keyboard.type('owner@example.com');
  await tabTo(page, 'Пароль');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: /Просрочено/ })).toBeVisible();

  // The focus is visible on buttons and menu entries reached by Tab.
  await tabTo(page, 'Контакты');
  const ring = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
  expect(ring).not.toBe('none');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/contacts/);

  await page.keyboard.press('Control+k');
  await page.keyboard.type('Anderson');
  await expect(page.getByRole('option').first()).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/contacts\/\d+$/);
  await expect(page.getByLabel('Фамилия')).toHaveValue(/Anderson/);

  const last = `Клавишин${unique()}`;
  await page.goto('/contacts/create');
  await tabTo(page, 'Фамилия');
  await page.keyboard.type(last);
  await tabTo(page, 'Сохранить');
  await page.keyboard.press('Enter');
  await expect(page.getByText('Элемент создан')).toBeVisible();
  await expect(page.getByLabel('Фамилия')).toHaveValue(last);
});
