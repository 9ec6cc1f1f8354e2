import type { ColumnKind } from './report';

/** A period label of the API (`2026-03`, `2026-Q1`, `2026-W09`, `2026-03-05`) for people. */
export function periodLabel(label: string, locale: string): string {
  const month = /^(\d{4})-(\d{2})$/.exec(label);
  if (month) return new Date(Number(month[1]), Number(month[2]) - 1, 1).toLocaleDateString(locale, { month: 'short', year: 'numeric' });
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(label);
  if (day) return new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])).toLocaleDateString(locale, { day: 'numeric', month: 'short' });
  return label;
}

/** A cell of a report table in the user's locale. */
export function formatCell(value: string | number | null | undefined, kind: ColumnKind, locale: string, currency: string): string {
  if (value === null || value === undefined || value === '') return '—';
  switch (kind) {
    case 'period':
      return periodLabel(String(value), locale);
    case 'money':
      return new Intl.NumberFormat(locale, { style: 'currency', currency, maximumFractionDigits: 0 }).format(Number(value));
    case 'percent':
      return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(Number(value))} %`;
    case 'days':
    case 'decimal':
      return new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(Number(value));
    case 'count':
      return new Intl.NumberFormat(locale).format(Number(value));
    default:
      return String(value);
  }
}

/** Short money for chart axes (1,2 млн ₽). */
export const compactMoney = (locale: string, currency: string) => (v: number) =>
  new Intl.NumberFormat(locale, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 }).format(v);
