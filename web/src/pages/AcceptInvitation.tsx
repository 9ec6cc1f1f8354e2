import { useState } from 'react';
import { useTranslate } from 'react-admin';
import { useNavigate, useParams } from 'react-router-dom';
import { Alert, Box, Button, Card, CardContent, Stack, TextField, Typography } from '@mui/material';
import { apiFetch, json } from '../api';

/** The page an invitation link opens: a name and a password, then sign-in. */
export const AcceptInvitation = () => {
  const { token } = useParams();
  const translate = useTranslate();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const accept = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      await apiFetch('invitations/accept', { method: 'POST', body: json({ token, name, password }) });
      setDone(true);
      setTimeout(() => navigate('/login'), 1500);
    } catch (err) { setError((err as Error).message); }
  };
  return (
    <Box sx={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', p: 2 }}>
      <Card sx={{ width: 400, maxWidth: '100%' }}>
        <CardContent>
          <Typography variant="h5" component="h1">{translate('accord.invitation.title')}</Typography>
          {done ? <Alert severity="success" sx={{ mt: 2 }}>{translate('accord.invitation.accepted')}</Alert> : (
            <Stack component="form" gap={2} sx={{ mt: 2 }} onSubmit={accept}>
              {error && <Alert severity="error">{error}</Alert>}
              <TextField label={translate('accord.invitation.name')} required value={name} onChange={(e) => setName(e.target.value)} />
              <TextField label={translate('accord.invitation.password')} type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
              <Button type="submit" variant="contained">{translate('accord.invitation.accept')}</Button>
            </Stack>
          )}
        </CardContent>
      </Card>
    </Box>
  );
};
