import { useLocaleState } from 'react-admin';
import { currentUser } from './authProvider';

/** The time zone of the user's profile (the browser's until the profile is loaded). */
export const userTimeZone = (): string => currentUser()?.user.time_zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Milliseconds the zone's wall clock is ahead of UTC at `date`. */
function offsetMs(date: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(date);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return wall - Math.floor(date.getTime() / 1000) * 1000;
}

/** A moment as the user reads it: their language, their profile's time zone. */
export function formatMoment(value: string | number | Date | null | undefined, locale: string, options: Intl.DateTimeFormatOptions = { dateStyle: 'short', timeStyle: 'short' }): string {
  if (value === null || value === undefined || value === '') return '';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(locale, { ...options, timeZone: userTimeZone() });
}

/** `formatMoment` in the current language. */
export function useMoment() {
  const [locale] = useLocaleState();
  return (value: string | number | Date | null | undefined, options?: Intl.DateTimeFormatOptions) => formatMoment(value, locale, options);
}

/** The wall-clock time (`YYYY-MM-DDTHH:mm`, as a date-time input shows it) of an instant in a zone. */
export function toZonedInput(value: string | Date | null | undefined, timeZone: string = userTimeZone()): string {
  if (value === null || value === undefined || value === '') return '';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  return new Date(date.getTime() + offsetMs(date, timeZone)).toISOString().slice(0, 16);
}

/** The instant (ISO, UTC) that a wall-clock time in a zone stands for. */
export function fromZonedInput(local: string | null | undefined, timeZone: string = userTimeZone()): string | null {
  const m = local?.match(/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/);
  if (!m) return null;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  // The offset at the guess, then at the result: right on both sides of a clock change.
  let instant = wall - offsetMs(new Date(wall), timeZone);
  const second = offsetMs(new Date(instant), timeZone);
  if (wall - second !== instant) instant = wall - second;
  return new Date(instant).toISOString();
}
