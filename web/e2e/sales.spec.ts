import { expect, test, type Page } from '@playwright/test';
import { api, signIn, unique } from './helpers';

interface Pipeline { id: number; name: string; stages: { id: number; kind: string; name: string }[] }

async function dragCard(page: Page, dealId: number, stageId: number) {
  const card = page.getByTestId(`deal-${dealId}`);
  const column = page.getByTestId(`column-${stageId}`);
  const from = await card.boundingBox();
  const to = await column.boundingBox();
  if (!from || !to) throw new Error('card or column not on screen');
  // @hello-pangea/dnd follows real pointer movements: press, move in steps, release.
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2 + 10, from.y + from.height / 2 + 10, { steps: 5 });
  await page.mouse.move(to.x + to.width / 2, to.y + 140, { steps: 20 });
  await page.waitForTimeout(200);
  await page.mouse.up();
}

test.describe(() => {
// Every column in view, so that the pointer can reach each of them.
test.use({ viewport: { width: 2200, height: 1000 } });
test('drag a deal across the board; a lost stage asks for the reason', async ({ page }) => {
  await signIn(page);
  const [pipeline] = await api<Pipeline[]>(page, 'GET', 'pipelines');
  const open = pipeline.stages.filter((s) => s.kind === 'open');
  const lost = pipeline.stages.find((s) => s.kind === 'lost');
  if (!lost) throw new Error('no lost stage');
  const title = `Доска ${unique()}`;
  const deal = await api<{ id: number }>(page, 'POST', 'deals', { title, pipeline_id: pipeline.id, stage_id: open[0].id, amount: '1000' });

  await page.getByRole('menuitem', { name: 'Воронка сделок' }).click();
  await expect(page.getByTestId(`deal-${deal.id}`)).toBeVisible();
  const countOf = async (stageId: number) => Number((await page.getByTestId(`column-${stageId}`).getByTestId('column-count').innerText()).match(/\d+/)?.[0]);
  const before = await countOf(open[1].id);

  await dragCard(page, deal.id, open[1].id);
  await expect(page.getByTestId(`column-${open[1].id}`).getByTestId(`deal-${deal.id}`)).toBeVisible();
  await expect.poll(() => countOf(open[1].id)).toBe(before + 1);
  expect((await api<{ stage_id: number }>(page, 'GET', `deals/${deal.id}`)).stage_id).toBe(open[1].id);

  await dragCard(page, deal.id, lost.id);
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('Почему сделка проиграна?');
  await dialog.getByLabel('Причина').click();
  await page.getByRole('option', { name: 'Дорого' }).click();
  await dialog.getByRole('button', { name: 'Подтвердить' }).click();
  await expect(page.getByTestId(`column-${lost.id}`).getByTestId(`deal-${deal.id}`)).toBeVisible();
  const after = await api<{ status: string; lost_reason_id: number | null }>(page, 'GET', `deals/${deal.id}`);
  expect(after.status).toBe('lost');
  expect(after.lost_reason_id).not.toBeNull();

  // The deal's timeline names the stages it went through, in the user's language.
  await page.goto(`/deals/${deal.id}`);
  const timeline = page.getByTestId('timeline');
  await expect(timeline).toContainText(`${open[0].name} → ${open[1].name}`);
  await expect(timeline).toContainText(`${open[1].name} → ${lost.name}`);
});

});

test('convert a lead into a contact, a company and a deal', async ({ page }) => {
  await signIn(page);
  const name = `Лидов ${unique()}`;
  const lead = await api<{ id: number }>(page, 'POST', 'leads', { name, email: `lead${unique()}@example.com`, company_name: `ООО ${name}` });
  await page.goto(`/leads/${lead.id}`);
  await page.getByRole('button', { name: 'Конвертировать' }).click();
  await page.getByRole('dialog').getByLabel('Название сделки').fill(`Сделка ${name}`);
  await page.getByRole('dialog').getByRole('button', { name: 'Конвертировать' }).click();
  await expect(page).toHaveURL(/\/deals\/\d+$/);
  await expect(page.getByLabel('Название')).toHaveValue(`Сделка ${name}`);
  const converted = await api<{ converted_at: string | null; contact_id: number; company_id: number }>(page, 'GET', `leads/${lead.id}`);
  expect(converted.converted_at).not.toBeNull();
  expect(converted.contact_id).toBeGreaterThan(0);
  expect(converted.company_id).toBeGreaterThan(0);
});

test('settings: an admin adds a lost reason and an exchange rate', async ({ page }) => {
  await signIn(page);
  await page.getByRole('menuitem', { name: 'Настройки' }).click();
  await page.getByRole('tab', { name: 'Причины проигрыша' }).click();
  const reason = `Причина ${unique()}`;
  await page.getByLabel('Название (рус.)').fill(reason);
  await page.getByRole('button', { name: 'Добавить' }).click();
  await expect(page.getByRole('cell', { name: reason })).toBeVisible();

  await page.getByRole('tab', { name: 'Курсы валют' }).click();
  await page.getByLabel('Валюта').fill('EUR');
  await page.getByLabel('Курс').fill('101.25');
  await page.getByRole('button', { name: 'Добавить' }).click();
  await expect(page.getByRole('cell', { name: '101.25' })).toBeVisible();
});

test('settings: a new pipeline, a stage removed with its deals moved, a custom field relabelled', async ({ page }) => {
  await signIn(page);
  await page.getByRole('menuitem', { name: 'Настройки' }).click();
  await page.getByRole('tab', { name: 'Воронки и этапы' }).click();
  const name = `Тендеры ${unique()}`;
  await page.getByLabel('Название воронки (рус.)').fill(name);
  await page.getByRole('button', { name: 'Добавить воронку' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  const pipeline = (await api<Pipeline[]>(page, 'GET', 'pipelines')).find((p) => p.name === name);
  if (!pipeline) throw new Error('the pipeline was not created');
  // A new pipeline gets the classic stages; the second is where negotiation happens.
  const [first, talks] = pipeline.stages;
  const deal = await api<{ id: number }>(page, 'POST', 'deals', { title: `Тендер ${unique()}`, pipeline_id: pipeline.id, stage_id: talks.id, amount: '5000' });

  const box = page.locator('div.MuiBox-root').filter({ has: page.getByRole('heading', { name }) }).last();
  await box.getByRole('button', { name: 'Редактировать' }).click();
  await box.getByRole('button', { name: `Удалить: ${talks.name}` }).click();
  await expect(box.getByLabel(`Сделки этапа «${talks.name}» перейдут в`)).toContainText(first.name);
  await box.getByRole('button', { name: 'Сохранить' }).click();
  await expect(page.getByText('Сохранено')).toBeVisible();
  expect((await api<{ stage_id: number }>(page, 'GET', `deals/${deal.id}`)).stage_id).toBe(first.id);

  const key = `f${unique()}`;
  await api(page, 'POST', 'custom_fields', { entity: 'contact', key, label: 'Старое имя', field_type: 'select', options: ['А', 'Б'] });
  await page.getByRole('tab', { name: 'Дополнительные поля' }).click();
  await page.getByRole('button', { name: `Редактировать ${key}` }).click();
  const row = page.getByRole('row').filter({ hasText: key });
  await row.getByLabel('Название').fill('Новое имя');
  await row.getByLabel('Варианты через запятую').fill('А, Б, В');
  await row.getByRole('button', { name: 'Сохранить' }).click();
  await expect(page.getByRole('cell', { name: 'Новое имя' })).toBeVisible();
  const fields = await api<{ key: string; label: string; options: string[] }[]>(page, 'GET', 'custom_fields');
  expect(fields.find((f) => f.key === key)).toMatchObject({ label: 'Новое имя', options: ['А', 'Б', 'В'] });
});

test('settings: a price list with a product\'s price; a deal that follows it takes that price', async ({ page }) => {
  await signIn(page);
  await page.getByRole('menuitem', { name: 'Настройки' }).click();
  await page.getByRole('tab', { name: 'Прайс-листы' }).click();
  const name = `Опт ${unique()}`;
  await page.getByLabel('Название (рус.)').fill(name);
  await page.getByRole('button', { name: 'Добавить' }).click();
  await page.getByRole('button', { name, exact: true }).click();
  await page.getByLabel('Товар или услуга').fill('Стеллаж');
  await page.getByRole('option', { name: /Стеллаж/ }).first().click();
  await page.getByLabel('Цена по прайс-листу', { exact: true }).fill('7000');
  await page.getByRole('button', { name: 'Добавить' }).first().click();
  await expect(page.getByLabel(/Цена по прайс-листу: Стеллаж/)).toHaveValue('7000');

  const list = (await api<{ id: number; name: string }[]>(page, 'GET', 'price_lists')).find((l) => l.name === name);
  const prices = await api<{ data: { product_id: number }[] }>(page, 'GET', `price_lists/${list?.id}/prices`);
  const deal = await api<{ id: number; items: { price: string }[] }>(page, 'POST', 'deals', { title: `Опт ${unique()}`, price_list_id: list?.id, items: [{ product_id: prices.data[0].product_id, quantity: 2 }] });
  expect(deal.items[0].price).toBe('7000');
  await page.goto(`/deals/${deal.id}`);
  await expect(page.getByLabel('Прайс-лист')).toContainText(name);
});
