import { useState } from 'react';
import { useTranslate, useGetIdentity } from 'react-admin';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Badge, IconButton, Popover, List, ListItem, ListItemText, Button, Typography } from '@mui/material';
import NotificationsIcon from '@mui/icons-material/Notifications';
import { apiFetch } from '../api';
import { useMoment } from '../time';

interface Notification { id: number; entity: string | null; record_id: number | null; payload: { title?: string; due_at?: string }; created_at: string; read_at: string | null }

/** The unread badge polls each minute: reminders are delivered by the server's worker. */
export const NotificationsBell = () => {
  const translate = useTranslate();
  const { identity } = useGetIdentity();
  const client = useQueryClient();
  const moment = useMoment();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const unread = useQuery({
    queryKey: ['notifications', 'unread'],
    queryFn: () => apiFetch<{ unread_count: number }>('notifications/unread_count'),
    refetchInterval: 60_000,
    enabled: !!identity,
  });
  const list = useQuery({
    queryKey: ['notifications', 'list'],
    queryFn: () => apiFetch<{ data: Notification[] }>('notifications?limit=20'),
    enabled: !!anchor,
  });
  const readAll = async () => {
    await apiFetch('notifications/read_all', { method: 'POST' });
    client.invalidateQueries({ queryKey: ['notifications'] });
  };
  const count = unread.data?.unread_count ?? 0;
  return (
    <>
      <IconButton color="inherit" aria-label={translate('accord.my_day.unread')} onClick={(e) => setAnchor(e.currentTarget)}>
        <Badge badgeContent={count} color="error" data-testid="unread-badge"><NotificationsIcon /></Badge>
      </IconButton>
      <Popover open={!!anchor} anchorEl={anchor} onClose={() => setAnchor(null)} anchorOrigin={{ vertical: 'bottom', horizontal: 'right' }} transformOrigin={{ vertical: 'top', horizontal: 'right' }}>
        <List sx={{ width: 340, maxHeight: 420, overflow: 'auto' }} dense>
          {(list.data?.data ?? []).map((n) => (
            <ListItem key={n.id} sx={{ bgcolor: n.read_at ? undefined : 'action.hover' }}>
              <ListItemText primary={n.payload.title} secondary={n.payload.due_at ? moment(n.payload.due_at) : undefined} />
            </ListItem>
          ))}
          {list.data?.data.length === 0 && <ListItem><Typography variant="body2">{translate('accord.my_day.nothing')}</Typography></ListItem>}
        </List>
        <Button fullWidth onClick={readAll}>{translate('accord.my_day.mark_all_read')}</Button>
      </Popover>
    </>
  );
};
