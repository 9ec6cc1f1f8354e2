import { Title, useGetIdentity, useGetList, useTranslate, useUpdate, usePermissions } from 'react-admin';
import { Box, Card, CardContent, Checkbox, List, ListItem, ListItemButton, ListItemText, Typography, Grid } from '@mui/material';
import { Link } from 'react-router-dom';
import { canWrite } from '../authProvider';
import { useMoment } from '../time';

const startOfDay = (offsetDays: number) => {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() + offsetDays);
  return d.toISOString();
};

/** The salesperson's day: overdue, today's and upcoming tasks, and meetings. */
export const MyDay = () => {
  const translate = useTranslate();
  const { identity } = useGetIdentity();
  const enabled = !!identity;
  const mine = { owner_id: identity?.id, status: 'open' };
  const opts = { enabled };
  const page = { page: 1, perPage: 50 };
  const asc = { field: 'due_at', order: 'ASC' as const };
  const overdue = useGetList('tasks', { filter: { ...mine, 'due_at[lt]': startOfDay(0) }, sort: asc, pagination: page }, opts);
  const today = useGetList('tasks', { filter: { ...mine, 'due_at[gte]': startOfDay(0), 'due_at[lt]': startOfDay(1) }, sort: asc, pagination: page }, opts);
  const upcoming = useGetList('tasks', { filter: { ...mine, 'due_at[gte]': startOfDay(1), 'due_at[lt]': startOfDay(8) }, sort: asc, pagination: page }, opts);
  const meetings = useGetList('activities', { filter: { owner_id: identity?.id, kind: 'meeting', 'starts_at[gte]': startOfDay(0), 'starts_at[lt]': startOfDay(8) }, sort: { field: 'starts_at', order: 'ASC' }, pagination: page }, opts);
  return (
    <Box sx={{ mt: 2 }}>
      <Title title={translate('accord.my_day.title')} />
      <Grid container spacing={2}>
        <Grid size={{ xs: 12, md: 6 }}><TaskCard title="accord.my_day.overdue" tasks={overdue.data} testId="overdue" /></Grid>
        <Grid size={{ xs: 12, md: 6 }}><TaskCard title="accord.my_day.today" tasks={today.data} testId="today" /></Grid>
        <Grid size={{ xs: 12, md: 6 }}><TaskCard title="accord.my_day.upcoming" tasks={upcoming.data} testId="upcoming" /></Grid>
        <Grid size={{ xs: 12, md: 6 }}><MeetingCard meetings={meetings.data} /></Grid>
      </Grid>
    </Box>
  );
};

const TaskCard = ({ title, tasks, testId }: { title: string; tasks?: { id: number; title: string; due_at: string; version: number }[]; testId: string }) => {
  const translate = useTranslate();
  const moment = useMoment();
  const [update] = useUpdate();
  const { permissions } = usePermissions();
  return (
    <Card data-testid={testId}>
      <CardContent>
        <Typography variant="h6" component="h2">{translate(title)} {tasks ? `(${tasks.length})` : ''}</Typography>
        <List dense>
          {(tasks ?? []).map((t) => (
            <ListItem key={t.id} disablePadding secondaryAction={canWrite(permissions) && (
              <Checkbox edge="end" inputProps={{ 'aria-label': `${translate('accord.common.done')}: ${t.title}` }}
                onChange={() => update('tasks', { id: t.id, data: { status: 'done' }, previousData: t })} />)}>
              <ListItemButton component={Link} to={`/tasks/${t.id}`}>
                <ListItemText primary={t.title} secondary={t.due_at ? moment(t.due_at) : ''} />
              </ListItemButton>
            </ListItem>
          ))}
          {tasks?.length === 0 && <Typography variant="body2" color="text.secondary">{translate('accord.my_day.nothing')}</Typography>}
        </List>
      </CardContent>
    </Card>
  );
};

const MeetingCard = ({ meetings }: { meetings?: { id: number; subject: string; starts_at: string }[] }) => {
  const translate = useTranslate();
  const moment = useMoment();
  return (
    <Card data-testid="meetings">
      <CardContent>
        <Typography variant="h6" component="h2">{translate('accord.my_day.meetings')}</Typography>
        <List dense>
          {(meetings ?? []).map((m) => (
            <ListItemButton key={m.id} component={Link} to={`/activities/${m.id}`}>
              <ListItemText primary={m.subject} secondary={moment(m.starts_at)} />
            </ListItemButton>
          ))}
          {meetings?.length === 0 && <Typography variant="body2" color="text.secondary">{translate('accord.my_day.nothing')}</Typography>}
        </List>
      </CardContent>
    </Card>
  );
};
