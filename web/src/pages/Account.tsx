import { useEffect, useState } from 'react';
import { Title, useNotify, useTranslate, useLocaleState, Button } from 'react-admin';
import { Alert, Card, CardContent, IconButton, List, ListItem, ListItemText, MenuItem, Stack, TextField, Typography } from '@mui/material';
import DeleteIcon from '@mui/icons-material/Delete';
import { apiFetch, fieldMessages, json } from '../api';
import { currentUser, updateCurrentUser } from '../authProvider';
import { useMoment } from '../time';

interface Token { id: number; name: string; scope: string; created_at: string; last_used_at: string | null; expires_at: string | null }

/** The user's own settings: profile and language, password, personal API tokens. */
export const Account = () => {
  const translate = useTranslate();
  return (
    <Stack gap={2} sx={{ mt: 2, maxWidth: 720 }}>
      <Title title={translate('accord.account.title')} />
      <Profile />
      <Password />
      <Tokens />
    </Stack>
  );
};

const Profile = () => {
  const translate = useTranslate();
  const notify = useNotify();
  const [locale, setLocale] = useLocaleState();
  const me = currentUser();
  const [name, setName] = useState(me?.user.name ?? '');
  const [timeZone, setTimeZone] = useState(me?.user.time_zone ?? 'Europe/Moscow');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const save = async () => {
    try {
      await apiFetch('me', { method: 'PATCH', body: json({ name, time_zone: timeZone, locale }) });
      updateCurrentUser({ name, time_zone: timeZone, locale });
      setErrors({});
      notify('accord.account.saved');
    } catch (e) { setErrors(fieldMessages(e, translate)); }
  };
  return (
    <Card><CardContent>
      <Typography variant="h6" component="h2">{translate('accord.account.profile')}</Typography>
      <Stack gap={2} sx={{ mt: 2 }}>
        <TextField label={translate('accord.account.name')} value={name} onChange={(e) => setName(e.target.value)} error={!!errors.name} helperText={errors.name} />
        <TextField select label={translate('accord.common.language')} value={locale} onChange={(e) => setLocale(e.target.value)}>
          <MenuItem value="ru">Русский</MenuItem>
          <MenuItem value="en">English</MenuItem>
        </TextField>
        <TextField label={translate('accord.account.time_zone')} value={timeZone} onChange={(e) => setTimeZone(e.target.value)} error={!!errors.time_zone} helperText={errors.time_zone ?? 'Europe/Moscow, Asia/Yekaterinburg …'} />
        <Button label="ra.action.save" variant="contained" onClick={save} sx={{ alignSelf: 'flex-start' }} />
      </Stack>
    </CardContent></Card>
  );
};

const Password = () => {
  const translate = useTranslate();
  const notify = useNotify();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const save = async () => {
    try {
      await apiFetch('me/password', { method: 'POST', body: json({ current_password: current, new_password: next }) });
      setCurrent(''); setNext(''); setErrors({});
      notify('accord.account.password_changed');
    } catch (e) {
      const errs = fieldMessages(e, translate);
      setErrors(errs);
      if (!Object.keys(errs).length) notify((e as Error).message, { type: 'error' });
    }
  };
  return (
    <Card><CardContent>
      <Typography variant="h6" component="h2">{translate('accord.account.password')}</Typography>
      <Stack gap={2} sx={{ mt: 2 }}>
        <TextField type="password" autoComplete="current-password" label={translate('accord.account.current_password')} value={current} onChange={(e) => setCurrent(e.target.value)} error={!!errors.current_password} helperText={errors.current_password} />
        <TextField type="password" autoComplete="new-password" label={translate('accord.account.new_password')} value={next} onChange={(e) => setNext(e.target.value)} error={!!errors.new_password} helperText={errors.new_password} />
        <Button label="ra.action.save" variant="contained" onClick={save} disabled={!current || !next} sx={{ alignSelf: 'flex-start' }} />
      </Stack>
    </CardContent></Card>
  );
};

const Tokens = () => {
  const translate = useTranslate();
  const notify = useNotify();
  const moment = useMoment();
  const [tokens, setTokens] = useState<Token[]>([]);
  const [name, setName] = useState('');
  const [scope, setScope] = useState('read');
  const [created, setCreated] = useState<string | null>(null);
  const load = () => apiFetch<Token[]>('tokens').then(setTokens).catch(() => undefined);
  useEffect(() => { load(); }, []);
  const create = async () => {
    try {
      const t = await apiFetch<{ token: string }>('tokens', { method: 'POST', body: json({ name, scope }) });
      setCreated(t.token); setName(''); load();
    } catch (e) { notify((e as Error).message, { type: 'error' }); }
  };
  const revoke = async (id: number) => { await apiFetch(`tokens/${id}`, { method: 'DELETE' }); load(); };
  return (
    <Card><CardContent>
      <Typography variant="h6" component="h2">{translate('accord.account.tokens')}</Typography>
      {created && <Alert severity="success" sx={{ mt: 1, wordBreak: 'break-all' }}>{translate('accord.account.token_created')}: <code data-testid="new-token">{created}</code></Alert>}
      <Stack direction={{ xs: 'column', sm: 'row' }} gap={2} sx={{ mt: 2 }}>
        <TextField size="small" label={translate('accord.account.token_name')} value={name} onChange={(e) => setName(e.target.value)} />
        <TextField size="small" select label={translate('accord.account.token_scope')} value={scope} onChange={(e) => setScope(e.target.value)}>
          <MenuItem value="read">{translate('choices.token_scope.read')}</MenuItem>
          <MenuItem value="read_write">{translate('choices.token_scope.read_write')}</MenuItem>
        </TextField>
        <Button label="accord.account.create_token" variant="contained" disabled={!name.trim()} onClick={create} />
      </Stack>
      <List dense>
        {tokens.map((t) => (
          <ListItem key={t.id} secondaryAction={<IconButton aria-label={`${translate('accord.account.revoke')} ${t.name}`} onClick={() => revoke(t.id)}><DeleteIcon /></IconButton>}>
            <ListItemText primary={`${t.name} · ${translate(`choices.token_scope.${t.scope}`)}`} secondary={moment(t.created_at)} />
          </ListItem>
        ))}
      </List>
    </CardContent></Card>
  );
};
