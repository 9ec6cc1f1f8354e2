import { useState } from 'react';
import { useLogin, useNotify, useTranslate, LocalesMenuButton } from 'react-admin';
import { Box, Button, Card, CardContent, Checkbox, FormControlLabel, Stack, TextField, Typography } from '@mui/material';

/** Sign-in with "remember me" (a 30-day session instead of 12 hours). */
export const LoginPage = () => {
  const login = useLogin();
  const notify = useNotify();
  const translate = useTranslate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await login({ username: email, password, remember });
    } catch (err) {
      notify((err as Error).message || 'ra.auth.sign_in_error', { type: 'error' });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Box sx={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', bgcolor: 'grey.100', p: 2 }}>
      <Card sx={{ width: 380, maxWidth: '100%' }}>
        <CardContent>
          <Stack direction="row" justifyContent="space-between" alignItems="center">
            <Typography variant="h5" component="h1">Accord</Typography>
            <LocalesMenuButton />
          </Stack>
          <Stack component="form" onSubmit={submit} gap={2} sx={{ mt: 2 }}>
            <TextField label={translate('resources.contacts.fields.email')} type="email" autoComplete="username" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />
            <TextField label={translate('ra.auth.password')} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            <FormControlLabel control={<Checkbox checked={remember} onChange={(e) => setRemember(e.target.checked)} />} label={translate('accord.login.remember')} />
            <Button type="submit" variant="contained" disabled={busy}>{translate('ra.auth.sign_in')}</Button>
          </Stack>
        </CardContent>
      </Card>
    </Box>
  );
};
