import { DateField, DateTimeInput, useLocaleState, type DateFieldProps, type DateTimeInputProps } from 'react-admin';
import { fromZonedInput, toZonedInput, userTimeZone } from '../time';

const WALL_CLOCK = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;

/** A moment shown in the user's language and profile time zone (not the browser's). */
export const ZonedDateField = (props: DateFieldProps) => {
  const [locale] = useLocaleState();
  const options: Intl.DateTimeFormatOptions | undefined = props.showTime ? { dateStyle: 'short', timeStyle: 'short', timeZone: userTimeZone() } : undefined;
  return <DateField locales={locale} options={options} {...props} />;
};

/** A date and time typed on the profile time zone's clock, sent to the API as an instant. */
export const ZonedDateTimeInput = (props: DateTimeInputProps) => (
  <DateTimeInput
    format={(v: string | Date | null | undefined) => (typeof v === 'string' && WALL_CLOCK.test(v) ? v : toZonedInput(v))}
    parse={(v: string) => (v ? fromZonedInput(v) : null)}
    {...props}
  />
);
