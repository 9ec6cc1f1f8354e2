import { useEffect, useMemo, useState } from 'react';
import { Title, useGetList, useLocaleState, useNotify, useTranslate, useGetIdentity, Button, HttpError } from 'react-admin';
import { DragDropContext, Draggable, Droppable, type DropResult } from '@hello-pangea/dnd';
import { Box, Card, CardContent, Dialog, DialogActions, DialogContent, DialogTitle, MenuItem, Paper, Stack, TextField, Typography, FormControlLabel, Switch } from '@mui/material';
import { Link } from 'react-router-dom';
import { apiFetch, json } from '../api';
import { money } from '../format';
import { useNamed, type Pipeline, type Stage } from '../resources/deals';

interface Deal { id: number; version: number; title: string; amount: string | null; currency: string; company_id: number | null; owner_id: number; stage_id: number }
interface Column { stage: Stage; count: number; total: { amount: string; currency: string }; unconverted: { amount: string; currency: string }[]; deals: Deal[]; next_cursor: string | null }
interface BoardData { pipeline: Pipeline; columns: Column[] }
interface PendingMove { deal: Deal; from: number; to: number; index: number }

const PAGE = 20;

/**
 * The pipeline as a board: one column per stage with its count and total, cards dragged
 * between stages (a lost stage asks for the reason), filters by owner, team and tag, and
 * columns that load more cards as they scroll.
 */
export const Board = () => {
  const translate = useTranslate();
  const named = useNamed();
  const notify = useNotify();
  const [locale] = useLocaleState();
  const { identity } = useGetIdentity();
  const { data: pipelines } = useGetList<Pipeline>('pipelines', { pagination: { page: 1, perPage: 100 } });
  const { data: reasons } = useGetList('lost_reasons', { pagination: { page: 1, perPage: 100 } });
  const { data: teams } = useGetList('teams', { pagination: { page: 1, perPage: 100 } });
  const [pipelineId, setPipelineId] = useState<number | null>(null);
  const [mine, setMine] = useState(false);
  const [teamId, setTeamId] = useState('');
  const [tag, setTag] = useState('');
  const [board, setBoard] = useState<BoardData | null>(null);
  const [pending, setPending] = useState<PendingMove | null>(null);

  const filters = useMemo(() => {
    const q = new URLSearchParams();
    if (mine && identity) q.set('owner_id', String(identity.id));
    if (teamId) q.set('team_id', teamId);
    if (tag.trim()) q.set('tag', tag.trim());
    return q;
  }, [mine, identity, teamId, tag]);

  const current = pipelineId ?? pipelines?.[0]?.id ?? null;

  useEffect(() => {
    if (current === null) return;
    const q = new URLSearchParams(filters);
    q.set('limit', String(PAGE));
    const abort = new AbortController();
    apiFetch<BoardData>(`pipelines/${current}/board?${q}`, { signal: abort.signal }).then(setBoard).catch((e) => {
      if (!abort.signal.aborted) notify((e as Error).message, { type: 'error' });
    });
    return () => abort.abort();
  }, [current, filters, notify]);

  const loadMore = async (column: Column) => {
    if (!column.next_cursor || current === null) return;
    const q = new URLSearchParams(filters);
    q.set('limit', String(PAGE));
    q.set('column', String(column.stage.id));
    q.set('cursor', column.next_cursor);
    const more = await apiFetch<BoardData>(`pipelines/${current}/board?${q}`);
    const next = more.columns[0];
    setBoard((b) => b && { ...b, columns: b.columns.map((c) => (c.stage.id === column.stage.id ? { ...c, deals: [...c.deals, ...next.deals], next_cursor: next.next_cursor } : c)) });
  };

  const reload = async () => {
    if (current === null) return;
    const q = new URLSearchParams(filters);
    q.set('limit', String(PAGE));
    setBoard(await apiFetch<BoardData>(`pipelines/${current}/board?${q}`));
  };

  const move = async (m: PendingMove, lost?: { lost_reason_id: number; lost_comment: string }) => {
    if (!board) return;
    const target = board.columns.find((c) => c.stage.id === m.to);
    const others = (target?.deals ?? []).filter((d) => d.id !== m.deal.id);
    const after = m.index > 0 ? others[m.index - 1] : undefined;
    const before = after ? undefined : others[0];
    // The card moves at once; the answer (or a refusal) brings the board back in line.
    setBoard({
      ...board, columns: board.columns.map((c) => {
        if (c.stage.id === m.from && c.stage.id !== m.to) return { ...c, deals: c.deals.filter((d) => d.id !== m.deal.id) };
        if (c.stage.id === m.to) { const list = [...others]; list.splice(m.index, 0, m.deal); return { ...c, deals: list }; }
        return c;
      }),
    });
    try {
      await apiFetch(`deals/${m.deal.id}/move`, { method: 'POST', body: json({ stage_id: m.to, version: m.deal.version, after_id: after?.id, before_id: before?.id, ...lost }) });
      notify('accord.board.moved');
    } catch (e) {
      const err = e as HttpError;
      notify(err.status === 409 ? 'accord.common.conflict' : err.message, { type: 'error' });
    }
    await reload();
  };

  const onDragEnd = (r: DropResult) => {
    if (!r.destination || !board) return;
    const from = Number(r.source.droppableId), to = Number(r.destination.droppableId);
    if (from === to && r.source.index === r.destination.index) return;
    const deal = board.columns.find((c) => c.stage.id === from)?.deals[r.source.index];
    if (!deal) return;
    const m = { deal, from, to, index: r.destination.index };
    const stage = board.columns.find((c) => c.stage.id === to)?.stage;
    if (stage?.kind === 'lost' && from !== to) setPending(m);
    else move(m);
  };

  return (
    // A grid column of minmax(0, 1fr) keeps the page as wide as the screen: the columns
    // scroll sideways inside it.
    <Box sx={{ mt: 1, display: 'grid', gridTemplateColumns: 'minmax(0, 1fr)' }}>
      <Title title={translate('accord.board.title')} />
      <Stack direction={{ xs: 'column', sm: 'row' }} gap={2} sx={{ mb: 2 }} alignItems={{ sm: 'center' }}>
        <TextField select size="small" label={translate('accord.board.pipeline')} value={current ?? ''} onChange={(e) => setPipelineId(Number(e.target.value))} sx={{ minWidth: 220 }}>
          {(pipelines ?? []).map((p) => <MenuItem key={p.id} value={p.id}>{named(p)}</MenuItem>)}
        </TextField>
        <TextField select size="small" label={translate('resources.deals.fields.team_id')} value={teamId} onChange={(e) => setTeamId(e.target.value)} sx={{ minWidth: 160 }}>
          <MenuItem value="">—</MenuItem>
          {(teams ?? []).map((t) => <MenuItem key={t.id} value={String(t.id)}>{t.name}</MenuItem>)}
        </TextField>
        <TextField size="small" label={translate('accord.common.tag')} value={tag} onChange={(e) => setTag(e.target.value)} />
        <FormControlLabel control={<Switch checked={mine} onChange={(e) => setMine(e.target.checked)} />} label={translate('resources.deals.fields.owner_id') + ': ' + (identity?.fullName ?? '')} />
      </Stack>
      <DragDropContext onDragEnd={onDragEnd}>
        <Box sx={{ display: 'flex', gap: 1.5, overflowX: 'auto', pb: 2, alignItems: 'flex-start' }} data-testid="board">
          {board?.columns.map((col) => (
            <Paper key={col.stage.id} variant="outlined" sx={{ width: 272, flexShrink: 0, bgcolor: 'grey.50' }} data-testid={`column-${col.stage.id}`} aria-label={named(col.stage)}>
              <Box sx={{ p: 1.5, borderBottom: 1, borderColor: 'divider' }}>
                <Typography variant="subtitle2" component="h2">{named(col.stage)}</Typography>
                <Typography variant="caption" data-testid="column-count">{translate('accord.board.count', { smart_count: col.count })}</Typography>
                <Typography variant="body2" fontWeight="bold" data-testid="column-total">{money(col.total.amount, col.total.currency, locale)}</Typography>
                {col.unconverted.length > 0 && <Typography variant="caption">{translate('accord.board.unconverted', { amounts: col.unconverted.map((u) => money(u.amount, u.currency, locale)).join(', ') })}</Typography>}
              </Box>
              <Droppable droppableId={String(col.stage.id)}>
                {(provided) => (
                  <Box ref={provided.innerRef} {...provided.droppableProps} sx={{ p: 1, minHeight: 80, maxHeight: '65vh', overflowY: 'auto' }}
                    onScroll={(e) => { const el = e.currentTarget; if (el.scrollTop + el.clientHeight >= el.scrollHeight - 40) loadMore(col); }}>
                    {col.deals.map((deal, index) => (
                      <Draggable key={deal.id} draggableId={String(deal.id)} index={index}>
                        {(p) => (
                          <Card ref={p.innerRef} {...p.draggableProps} {...p.dragHandleProps} sx={{ mb: 1 }} data-testid={`deal-${deal.id}`}>
                            <CardContent sx={{ p: 1.25, '&:last-child': { pb: 1.25 } }}>
                              <Typography variant="body2" component={Link} to={`/deals/${deal.id}`} sx={{ color: 'inherit', textDecoration: 'none', fontWeight: 500 }}>{deal.title}</Typography>
                              <Typography variant="caption" display="block">{money(deal.amount, deal.currency, locale)}</Typography>
                            </CardContent>
                          </Card>
                        )}
                      </Draggable>
                    ))}
                    {provided.placeholder}
                    {col.deals.length === 0 && <Typography variant="caption" color="text.secondary">{translate('accord.board.empty')}</Typography>}
                    {col.next_cursor && <Button label="accord.common.load_more" onClick={() => loadMore(col)} />}
                  </Box>
                )}
              </Droppable>
            </Paper>
          ))}
        </Box>
      </DragDropContext>
      {pending && <LostDialog reasons={(reasons ?? []).filter((r) => r.active)} onCancel={() => setPending(null)}
        onConfirm={(lost) => { const m = pending; setPending(null); move(m, lost); }} />}
    </Box>
  );
};

const LostDialog = ({ reasons, onCancel, onConfirm }: {
  reasons: { id: number; name: string; names?: { ru?: string; en?: string }; requires_comment: boolean }[];
  onCancel: () => void; onConfirm: (lost: { lost_reason_id: number; lost_comment: string }) => void;
}) => {
  const translate = useTranslate();
  const named = useNamed();
  const [reason, setReason] = useState<number | ''>('');
  const [comment, setComment] = useState('');
  const needsComment = reasons.find((r) => r.id === reason)?.requires_comment ?? false;
  return (
    <Dialog open onClose={onCancel} fullWidth maxWidth="xs">
      <DialogTitle>{translate('accord.board.lost_title')}</DialogTitle>
      <DialogContent>
        <Stack gap={2} sx={{ pt: 1 }}>
          <TextField select label={translate('accord.board.lost_reason')} value={reason} onChange={(e) => setReason(Number(e.target.value))} required>
            {reasons.map((r) => <MenuItem key={r.id} value={r.id}>{named(r)}</MenuItem>)}
          </TextField>
          <TextField multiline minRows={2} label={translate('accord.board.lost_comment')} value={comment} onChange={(e) => setComment(e.target.value)} required={needsComment}
            error={needsComment && !comment.trim()} helperText={needsComment && !comment.trim() ? translate('accord.errors.comment_required') : ' '} />
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button label="ra.action.cancel" onClick={onCancel} />
        <Button label="ra.action.confirm" variant="contained" disabled={reason === '' || (needsComment && !comment.trim())}
          onClick={() => reason !== '' && onConfirm({ lost_reason_id: reason, lost_comment: comment })} />
      </DialogActions>
    </Dialog>
  );
};
