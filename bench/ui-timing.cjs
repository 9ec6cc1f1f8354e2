// How fast the web app answers a person on a large data set (issue 4): the contact list's
// first page after navigation, the 8-stage board, and global search after the last keystroke,
// each measured in headless Chromium against a running `accord serve`. See README.md.
//
//   node bench/ui-timing.cjs http://127.0.0.1:18091 user0@bench.example.com bench-password
const path = require('node:path');
const { chromium } = require(require.resolve('playwright', { paths: [path.join(__dirname, '../web')] }));

const [base = 'http://127.0.0.1:18091', email = 'user0@bench.example.com', password = 'bench-password'] = process.argv.slice(2);
const ROUNDS = 5;
const TARGETS = { 'contact list, first page': 1000, 'board, 8 stages': 1500, 'global search': 300 };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const browser = await chromium.launch({ executablePath: process.env.ACCORD_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, locale: 'ru-RU', timezoneId: 'Europe/Moscow' });
  await page.goto(`${base}/login`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Пароль').fill(password);
  await page.getByRole('button', { name: 'Войти' }).click();
  await page.getByRole('heading', { name: /Просрочено/ }).waitFor();

  const results = {};
  const time = async (name, prepare, act, done) => {
    results[name] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await prepare(i);
      const start = Date.now();
      await act(i);
      await done(i);
      results[name].push(Date.now() - start);
    }
  };

  // From clicking the menu entry until the first row of data is on screen.
  await time('contact list, first page',
    () => page.getByRole('menuitem', { name: 'Мой день' }).click().then(() => page.getByRole('heading', { name: /Просрочено/ }).waitFor()),
    () => page.getByRole('menuitem', { name: 'Контакты' }).click(),
    () => page.locator('tbody tr').first().waitFor());

  // From clicking the menu entry until the eight columns are there and the first shows its cards (the board
  // opens on the data set's 8-stage pipeline, the newest).
  const pipelines = await page.evaluate(async () => (await (await fetch('/api/v1/pipelines')).json()).map((p) => p.stages.length));
  if (!pipelines.includes(8)) throw new Error('the data set has no 8-stage pipeline');
  const myDay = () => page.getByRole('menuitem', { name: 'Мой день' }).click().then(() => page.getByRole('heading', { name: /Просрочено/ }).waitFor());
  await time('board, 8 stages',
    myDay,
    () => page.getByRole('menuitem', { name: 'Воронка сделок' }).click(),
    async () => {
      await page.locator('[data-testid^="column-"]').nth(7).waitFor();
      await page.locator('[data-testid^="column-"]').first().locator('[data-testid^="deal-"]').first().waitFor();
    });

  // From the last keystroke of a name prefix until its answers are listed.
  const prefixes = ['Ивано', 'Smith', 'Петро', 'Brown', 'Кузне'];
  const search = page.getByLabel('Поиск по всем записям');
  let answered;
  await time('global search',
    async (i) => {
      await search.fill(prefixes[i].slice(0, -1));
      await page.waitForTimeout(500);
    },
    async (i) => {
      const q = encodeURIComponent(prefixes[i]);
      answered = page.waitForResponse((r) => r.url().includes('/api/v1/search') && r.url().includes(`q=${q}`));
      await page.keyboard.type(prefixes[i].slice(-1));
    },
    async () => {
      await answered;
      await page.getByRole('option').first().waitFor();
    });

  await browser.close();
  console.log('| step | median ms | max ms | target |');
  console.log('|---|---:|---:|---|');
  for (const [name, xs] of Object.entries(results)) {
    const max = Math.max(...xs);
    console.log(`| ${name} | ${median(xs)} | ${max} | < ${TARGETS[name]} ms — ${max < TARGETS[name] ? 'met' : 'missed'} |`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
