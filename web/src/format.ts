/** Money in the user's locale; amounts travel as decimal strings and are never summed here. */
export function money(amount: string | number | null | undefined, currency: string | null | undefined, locale: string): string {
  if (amount === null || amount === undefined || amount === '') return '';
  const n = Number(amount);
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: currency || 'RUB', maximumFractionDigits: 2 }).format(n);
  } catch {
    return `${amount} ${currency ?? ''}`;
  }
}
