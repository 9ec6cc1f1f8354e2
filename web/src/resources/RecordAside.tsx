import { useState } from 'react';
import { useRecordContext, useResourceContext, useTranslate, useNotify, usePermissions, useGetList, Button } from 'react-admin';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { Box, Card, CardContent, Tab, Tabs, TextField, Typography, List, ListItem, ListItemText, Chip, Stack, Divider } from '@mui/material';
import { Link } from 'react-router-dom';
import { apiFetch, json } from '../api';
import { LINK_KEY } from './links';
import { canWrite } from '../authProvider';
import { QuickActivity } from './QuickActivity';
import { useMoment } from '../time';
import { useNamed, type Pipeline } from './deals';

interface Entry { id: number; at: string; kind: string; ref_id: number; summary: Record<string, unknown> }
interface Change { id: number; action: string; actor_id: number | null; at: string; changes: Record<string, [unknown, unknown]> }


const show = (v: unknown) => (v === null || v === undefined || v === '' ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Timeline, tasks and change history beside a record page. */
export const RecordAside = () => {
  const [tab, setTab] = useState(0);
  const translate = useTranslate();
  const resource = useResourceContext() ?? '';
  const hasTimeline = resource in LINK_KEY;
  return (
    <Card sx={{ ml: { md: 2 }, mt: { xs: 2, md: 0 }, width: { xs: '100%', md: 420 }, flexShrink: 0 }}>
      <Tabs value={tab} onChange={(_, v) => setTab(v)} variant="fullWidth">
        <Tab label={translate('accord.common.timeline')} />
        {hasTimeline && <Tab label={translate('accord.common.tasks')} />}
        <Tab label={translate('accord.common.history')} />
      </Tabs>
      <CardContent>
        {tab === 0 && <Timeline />}
        {hasTimeline && tab === 1 && <RecordTasks />}
        {tab === (hasTimeline ? 2 : 1) && <History />}
      </CardContent>
    </Card>
  );
};

const Timeline = () => {
  const record = useRecordContext();
  const resource = useResourceContext() ?? '';
  const translate = useTranslate();
  const notify = useNotify();
  const moment = useMoment();
  const { permissions } = usePermissions();
  const client = useQueryClient();
  const [note, setNote] = useState('');
  const key = ['timeline', resource, record?.id];
  const named = useNamed();
  const { data: pipelines } = useGetList<Pipeline>('pipelines', { pagination: { page: 1, perPage: 100 } }, { staleTime: 60_000, enabled: resource === 'deals' });
  const query = useInfiniteQuery({
    queryKey: key,
    enabled: !!record,
    initialPageParam: '',
    queryFn: ({ pageParam }) => apiFetch<{ data: Entry[]; next_cursor: string | null }>(`${resource}/${record?.id}/timeline?limit=30${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ''}`),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  if (!record) return null;
  const addNote = async () => {
    try {
      await apiFetch(`${resource}/${record.id}/notes`, { method: 'POST', body: json({ body: note }) });
      setNote('');
      notify('accord.common.note_added');
      client.invalidateQueries({ queryKey: key });
    } catch (e) { notify((e as Error).message, { type: 'error' }); }
  };
  const entries = query.data?.pages.flatMap((p) => p.data) ?? [];
  const stageName = (id: unknown) => {
    const stage = pipelines?.flatMap((p) => p.stages).find((st) => st.id === id);
    return stage ? named(stage) : show(id);
  };
  const fieldName = (f: string) => translate(`resources.${resource}.fields.${f}`, { _: f });
  return (
    <Box>
      {canWrite(permissions) && (
        <Stack gap={1} sx={{ mb: 2 }}>
          <TextField multiline minRows={2} label={translate('accord.common.note')} value={note} onChange={(e) => setNote(e.target.value)} />
          <Stack direction="row" gap={1} flexWrap="wrap">
            <Button label="accord.common.add_note" variant="contained" disabled={!note.trim()} onClick={addNote} />
            {resource in LINK_KEY && <QuickActivity onDone={() => client.invalidateQueries({ queryKey: key })} />}
          </Stack>
        </Stack>
      )}
      <Divider />
      {entries.length === 0 && !query.isPending && <Typography variant="body2" sx={{ mt: 2 }}>{translate('accord.common.empty_timeline')}</Typography>}
      <List dense data-testid="timeline">
        {entries.map((e) => (
          <ListItem key={e.id} alignItems="flex-start" disableGutters>
            <ListItemText
              primary={<Stack direction="row" gap={1} alignItems="center"><Chip size="small" label={translate(`accord.timeline.${e.kind}`, { _: e.kind })} />
                <span>{describe(e, translate, stageName, fieldName)}</span></Stack>}
              secondary={moment(e.at)} />
          </ListItem>
        ))}
      </List>
      {query.hasNextPage && <Button label="accord.common.load_more" onClick={() => query.fetchNextPage()} />}
    </Box>
  );
};

function describe(e: Entry, translate: (k: string, o?: object) => string, stageName: (id: unknown) => string, fieldName: (f: string) => string): string {
  const s = e.summary;
  switch (e.kind) {
    case 'note': return show(s.excerpt);
    case 'change':
      if (s.action === 'create') return translate('accord.common.created');
      return `${translate(`ra.action.${s.action === 'create' ? 'create' : s.action === 'delete' ? 'delete' : 'edit'}`, { _: String(s.action) })}${Array.isArray(s.fields) && s.fields.length ? `: ${(s.fields as string[]).map(fieldName).join(', ')}` : ''}`;
    case 'stage': return s.from_stage_id ? `${stageName(s.from_stage_id)} → ${stageName(s.to_stage_id)}` : stageName(s.to_stage_id ?? s.stage_id);
    case 'activity': return `${translate(`choices.activity_kind.${s.kind}`, { _: show(s.kind) })}: ${show(s.subject)}`;
    case 'task': return `${show(s.subject)} (${translate(`choices.task_status.${s.status}`, { _: show(s.status) })})`;
    case 'deal': return `${show(s.title)} ${s.amount ? `${show(s.amount)} ${show(s.currency)}` : ''}`;
    default: return '';
  }
}

const RecordTasks = () => {
  const record = useRecordContext();
  const resource = useResourceContext() ?? '';
  const translate = useTranslate();
  const moment = useMoment();
  const { data } = useGetList('tasks', { filter: { [LINK_KEY[resource]]: record?.id }, sort: { field: 'due_at', order: 'ASC' }, pagination: { page: 1, perPage: 50 } }, { enabled: !!record });
  return (
    <List dense>
      {(data ?? []).map((t) => (
        <ListItem key={t.id} component={Link} to={`/tasks/${t.id}`} disableGutters>
          <ListItemText primary={t.title} secondary={`${t.due_at ? moment(t.due_at) : ''} · ${translate(`choices.task_status.${t.status}`)}`} />
        </ListItem>
      ))}
      {data?.length === 0 && <Typography variant="body2">{translate('accord.my_day.nothing')}</Typography>}
    </List>
  );
};

const History = () => {
  const record = useRecordContext();
  const resource = useResourceContext() ?? '';
  const translate = useTranslate();
  const moment = useMoment();
  const { data } = useQuery({
    queryKey: ['history', resource, record?.id, record?.version],
    enabled: !!record,
    queryFn: () => apiFetch<{ data: Change[] }>(`${resource}/${record?.id}/history?limit=50`),
  });
  const entries = data?.data ?? [];
  return (
    <List dense data-testid="history">
      {entries.length === 0 && <Typography variant="body2">{translate('accord.common.no_history')}</Typography>}
      {entries.map((c) => (
        <ListItem key={c.id} alignItems="flex-start" disableGutters>
          <ListItemText primary={`${moment(c.at)} · ${c.action}`}
            secondary={Object.entries(c.changes ?? {}).map(([f, [from, to]]) => `${translate(`resources.${resource}.fields.${f}`, { _: f })}: ${show(from)} → ${show(to)}`).join('; ')} />
        </ListItem>
      ))}
    </List>
  );
};
