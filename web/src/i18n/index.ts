import polyglotI18nProvider from 'ra-i18n-polyglot';
import englishMessages from 'ra-language-english';
import russianMessages from 'ra-language-russian';
import { mergeTranslations, type TranslationMessages } from 'react-admin';
import en from './en.json';
import ru from './ru.json';

const messages: Record<string, TranslationMessages> = {
  en: mergeTranslations(englishMessages, en),
  ru: mergeTranslations(russianMessages, ru),
};

/** The browser's language when it is one we speak; react-admin then keeps the user's choice. */
export const browserLocale = () => (navigator.language?.toLowerCase().startsWith('en') ? 'en' : 'ru');

export const i18nProvider = polyglotI18nProvider((locale) => messages[locale] ?? messages.ru, browserLocale(), [
  { locale: 'ru', name: 'Русский' },
  { locale: 'en', name: 'English' },
], { allowMissing: true });
