import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { Title, useNotify, useTranslate, usePermissions, Button, HttpError } from 'react-admin';
import {
  Alert, Autocomplete, Box, Card, CardContent, Checkbox, FormControlLabel, IconButton, MenuItem, Stack, Tab, Table, TableBody, TableCell, TableHead, TableRow, Tabs, TextField, Typography, Switch,
} from '@mui/material';
import ArrowUpwardIcon from '@mui/icons-material/ArrowUpward';
import DeleteIcon from '@mui/icons-material/Delete';
import EditIcon from '@mui/icons-material/Edit';
import { API, apiFetch, fieldMessages, json } from '../api';
import { isAdmin } from '../authProvider';
import { useNamed, type Pipeline } from '../resources/deals';

import type { Goal } from '../analytics/GoalsCard';

const TABS = ['workspace', 'users', 'teams', 'roles', 'pipelines', 'lost_reasons', 'custom_fields', 'rates', 'price_lists', 'tags', 'goals', 'web_forms', 'archive'] as const;

/**
 * Loads one settings list and reloads it after a change; errors go to a notification. A paged
 * answer (`{ data, next_cursor }`) gives its first page.
 */
function useList<T>(path: string) {
  const notify = useNotify();
  const translate = useTranslate();
  const [items, setItems] = useState<T[]>([]);
  const load = useCallback(() => {
    apiFetch<T[] | { data: T[] }>(path).then((body) => setItems(Array.isArray(body) ? body : body.data)).catch((e) => notify((e as Error).message, { type: 'error' }));
  }, [path, notify]);
  useEffect(load, [load]);
  const run = async (fn: () => Promise<unknown>, done?: string) => {
    try { await fn(); if (done) notify(done); load(); return true; } catch (e) {
      const err = e as HttpError;
      const details = Object.entries(fieldMessages(err, translate)).map(([f, m]) => `${f}: ${m}`);
      notify([err.message, ...details].join('; '), { type: 'error' });
      return false;
    }
  };
  return { items, run };
}

/** Workspace settings for admins, one tab per kind. */
export const Settings = () => {
  const translate = useTranslate();
  const { permissions } = usePermissions();
  const [tab, setTab] = useState(0);
  if (!isAdmin(permissions)) return <Alert severity="info" sx={{ mt: 2 }}>{translate('accord.settings.admins_only')}</Alert>;
  const name = TABS[tab];
  return (
    <Box sx={{ mt: 1 }}>
      <Title title={translate('accord.settings.title')} />
      {/* Zero width, full minimum: the row of tabs scrolls inside the page instead of widening it
          (react-admin's layout is as wide as its content's natural width). */}
      <Tabs value={tab} onChange={(_, v) => setTab(v)} variant="scrollable" scrollButtons="auto" sx={{ width: 0, minWidth: '100%' }}>
        {TABS.map((t) => <Tab key={t} label={translate(`accord.settings.${t === 'rates' ? 'rates' : t}`)} />)}
      </Tabs>
      <Card sx={{ mt: 1 }}><CardContent>
        {name === 'workspace' && <WorkspaceTab />}
        {name === 'users' && <UsersTab />}
        {name === 'teams' && <TeamsTab />}
        {name === 'roles' && <RolesTab />}
        {name === 'pipelines' && <PipelinesTab />}
        {name === 'lost_reasons' && <LostReasonsTab />}
        {name === 'custom_fields' && <CustomFieldsTab />}
        {name === 'rates' && <RatesTab />}
        {name === 'price_lists' && <PriceListsTab />}
        {name === 'tags' && <TagsTab />}
        {name === 'goals' && <GoalsTab />}
        {name === 'web_forms' && <WebFormsTab />}
        {name === 'archive' && <ArchiveTab owner={permissions === 'owner'} />}
      </CardContent></Card>
    </Box>
  );
};

const Grid = ({ head, children }: { head: string[]; children: ReactNode }) => {
  const translate = useTranslate();
  return (
    <Box sx={{ overflowX: 'auto' }}>
      <Table size="small">
        <TableHead><TableRow>{head.map((h) => <TableCell key={h}>{h ? translate(h) : ''}</TableCell>)}</TableRow></TableHead>
        <TableBody>{children}</TableBody>
      </Table>
    </Box>
  );
};

const WorkspaceTab = () => {
  const translate = useTranslate();
  const notify = useNotify();
  const [ws, setWs] = useState<{ base_currency: string; vat_rates: (string | null)[] } | null>(null);
  const [rates, setRates] = useState('');
  useEffect(() => { apiFetch<{ base_currency: string; vat_rates: (string | null)[] }>('workspace').then((w) => { setWs(w); setRates(w.vat_rates.map((r) => r ?? 'none').join(', ')); }); }, []);
  if (!ws) return null;
  const save = async () => {
    try {
      await apiFetch('workspace', { method: 'PATCH', body: json({ base_currency: ws.base_currency, vat_rates: rates.split(',').map((r) => r.trim()).filter(Boolean) }) });
      notify('accord.settings.saved');
    } catch (e) { notify((e as Error).message, { type: 'error' }); }
  };
  return (
    <Stack gap={2} sx={{ maxWidth: 420 }}>
      <TextField label={translate('accord.settings.base_currency')} value={ws.base_currency} onChange={(e) => setWs({ ...ws, base_currency: e.target.value.toUpperCase() })} />
      <TextField label={translate('accord.settings.vat_rates')} value={rates} onChange={(e) => setRates(e.target.value)} helperText="22, 20, 10, 0, none" />
      <Button label="ra.action.save" variant="contained" onClick={save} sx={{ alignSelf: 'flex-start' }} />
    </Stack>
  );
};

interface Member { user_id: number; email: string; name: string; role: string; active: boolean }
const ROLES = ['owner', 'admin', 'manager', 'member', 'read_only'];

const UsersTab = () => {
  const translate = useTranslate();
  const { items, run } = useList<Member>('users');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('member');
  const [link, setLink] = useState<string | null>(null);
  const invite = () => run(async () => {
    const inv = await apiFetch<{ url: string }>('invitations', { method: 'POST', body: json({ email, role }) });
    setLink(`${window.location.origin}${inv.url}`);
    setEmail('');
  });
  return (
    <Stack gap={2}>
      <Grid head={['resources.users.fields.name', 'resources.users.fields.email', 'accord.settings.role', 'accord.settings.active']}>
        {items.map((m) => (
          <TableRow key={m.user_id}>
            <TableCell>{m.name}</TableCell>
            <TableCell>{m.email}</TableCell>
            <TableCell>
              <TextField select size="small" value={m.role} onChange={(e) => run(() => apiFetch(`users/${m.user_id}`, { method: 'PATCH', body: json({ role: e.target.value }) }), 'accord.settings.saved')}
                slotProps={{ htmlInput: { 'aria-label': `${translate('accord.settings.role')}: ${m.name}` } }}>
                {ROLES.map((r) => <MenuItem key={r} value={r}>{translate(`choices.role.${r}`)}</MenuItem>)}
              </TextField>
            </TableCell>
            <TableCell><Switch checked={m.active} onChange={(e) => run(() => apiFetch(`users/${m.user_id}`, { method: 'PATCH', body: json({ active: e.target.checked }) }))}
              slotProps={{ input: { 'aria-label': `${translate('accord.settings.active')}: ${m.name}` } }} /></TableCell>
          </TableRow>
        ))}
      </Grid>
      <Typography variant="subtitle1" component="h3">{translate('accord.settings.invite')}</Typography>
      <Stack direction={{ xs: 'column', sm: 'row' }} gap={2}>
        <TextField size="small" type="email" label={translate('resources.users.fields.email')} value={email} onChange={(e) => setEmail(e.target.value)} />
        <TextField size="small" select label={translate('accord.settings.role')} value={role} onChange={(e) => setRole(e.target.value)}>
          {ROLES.filter((r) => r !== 'owner').map((r) => <MenuItem key={r} value={r}>{translate(`choices.role.${r}`)}</MenuItem>)}
        </TextField>
        <Button label="accord.settings.invite" variant="contained" disabled={!email.includes('@')} onClick={invite} />
      </Stack>
      {link && <Alert severity="success">{translate('accord.settings.invitation_link')}: <code data-testid="invitation-link">{link}</code></Alert>}
    </Stack>
  );
};

interface Team { id: number; name: string; member_ids: number[] }

const TeamsTab = () => {
  const translate = useTranslate();
  const { items, run } = useList<Team>('teams');
  const { items: users } = useList<Member>('users');
  const [name, setName] = useState('');
  const toggle = (t: Team, id: number) => {
    const member_ids = t.member_ids.includes(id) ? t.member_ids.filter((m) => m !== id) : [...t.member_ids, id];
    return run(() => apiFetch(`teams/${t.id}`, { method: 'PUT', body: json({ name: t.name, member_ids }) }));
  };
  return (
    <Stack gap={2}>
      <Grid head={['accord.settings.team_name', 'accord.settings.members', '']}>
        {items.map((t) => (
          <TableRow key={t.id}>
            <TableCell>{t.name}</TableCell>
            <TableCell>{users.map((u) => (
              <label key={u.user_id} style={{ marginRight: 12, whiteSpace: 'nowrap' }}><Checkbox size="small" checked={t.member_ids.includes(u.user_id)} onChange={() => toggle(t, u.user_id)} />{u.name}</label>
            ))}</TableCell>
            <TableCell><IconButton aria-label={`${translate('ra.action.delete')} ${t.name}`} onClick={() => run(() => apiFetch(`teams/${t.id}`, { method: 'DELETE' }))}><DeleteIcon /></IconButton></TableCell>
          </TableRow>
        ))}
      </Grid>
      <Stack direction="row" gap={2}>
        <TextField size="small" label={translate('accord.settings.team_name')} value={name} onChange={(e) => setName(e.target.value)} />
        <Button label="accord.settings.add" variant="contained" disabled={!name.trim()} onClick={() => run(() => apiFetch('teams', { method: 'POST', body: json({ name }) })).then(() => setName(''))} />
      </Stack>
    </Stack>
  );
};

const RolesTab = () => {
  const translate = useTranslate();
  const { items, run } = useList<{ role: string; read: string; edit: string }>('roles');
  const set = (r: { role: string; read: string; edit: string }, change: object) => run(() => apiFetch(`roles/${r.role}`, { method: 'PUT', body: json({ read: r.read, edit: r.edit, ...change }) }), 'accord.settings.saved');
  return (
    <Grid head={['accord.settings.role', 'accord.settings.read_scope', 'accord.settings.edit_scope']}>
      {items.map((r) => (
        <TableRow key={r.role}>
          <TableCell>{translate(`choices.role.${r.role}`)}</TableCell>
          {(['read', 'edit'] as const).map((k) => (
            <TableCell key={k}>
              <TextField select size="small" value={r[k]} onChange={(e) => set(r, { [k]: e.target.value })}
                slotProps={{ htmlInput: { 'aria-label': `${translate(`choices.role.${r.role}`)}: ${translate(`accord.settings.${k}_scope`)}` } }}>
                {['own', 'team', 'all', 'none'].map((s) => <MenuItem key={s} value={s}>{translate(`choices.scope.${s}`)}</MenuItem>)}
              </TextField>
            </TableCell>
          ))}
        </TableRow>
      ))}
    </Grid>
  );
};

interface StageRow { id?: number; names: { ru?: string; en?: string }; kind: 'open' | 'won' | 'lost'; probability: number }

interface Editing { pipeline: Pipeline; names: { ru?: string; en?: string }; stages: StageRow[]; moves: Record<number, number> }

const PipelinesTab = () => {
  const translate = useTranslate();
  const named = useNamed();
  const { items, run } = useList<Pipeline>('pipelines');
  const [editing, setEditing] = useState<Editing | null>(null);
  const [draft, setDraft] = useState({ ru: '', en: '' });
  // Stages taken out that exist, each with the remaining stage of its kind that takes its deals.
  const removed = editing ? editing.pipeline.stages.filter((old) => !editing.stages.some((s) => s.id === old.id)) : [];
  const targets = (kind: string) => (editing?.stages ?? []).filter((s) => s.id !== undefined && s.kind === kind);
  const save = () => editing && run(() => apiFetch(`pipelines/${editing.pipeline.id}`, {
    method: 'PATCH',
    body: json({
      version: editing.pipeline.version, names: editing.names, stages: editing.stages,
      stage_moves: removed.map((r) => ({ from: r.id, to: editing.moves[r.id] ?? targets(r.kind)[0]?.id })).filter((m) => m.to !== undefined),
    }),
  }), 'accord.settings.saved').then((ok) => ok && setEditing(null));
  const update = (i: number, change: Partial<StageRow>) => editing && setEditing({ ...editing, stages: editing.stages.map((s, j) => (j === i ? { ...s, ...change } : s)) });
  const up = (i: number) => { if (!editing || i === 0) return; const s = [...editing.stages]; [s[i - 1], s[i]] = [s[i], s[i - 1]]; setEditing({ ...editing, stages: s }); };
  const create = () => run(() => apiFetch('pipelines', { method: 'POST', body: json({ names: { ru: draft.ru || undefined, en: draft.en || undefined } }) }), 'accord.settings.saved')
    .then((ok) => ok && setDraft({ ru: '', en: '' }));
  return (
    <Stack gap={2}>
      {items.map((p) => (
        <Box key={p.id}>
          <Stack direction="row" alignItems="center" gap={2}>
            <Typography variant="subtitle1" component="h3">{named(p)}</Typography>
            <Button label="ra.action.edit" onClick={() => setEditing({ pipeline: p, names: p.names, moves: {}, stages: p.stages.map(({ id, names, kind, probability }) => ({ id, names, kind, probability })) })} />
            {items.length > 1 && <Button label="ra.action.delete" onClick={() => run(() => apiFetch(`pipelines/${p.id}`, { method: 'DELETE' }), 'accord.settings.saved')} />}
          </Stack>
          {editing?.pipeline.id === p.id ? (
            <Stack gap={1}>
              <Stack direction={{ xs: 'column', sm: 'row' }} gap={1}>
                <TextField size="small" label={translate('accord.settings.pipeline_name_ru')} value={editing.names.ru ?? ''} onChange={(e) => setEditing({ ...editing, names: { ...editing.names, ru: e.target.value } })} />
                <TextField size="small" label={translate('accord.settings.pipeline_name_en')} value={editing.names.en ?? ''} onChange={(e) => setEditing({ ...editing, names: { ...editing.names, en: e.target.value } })} />
              </Stack>
              {editing.stages.map((s, i) => (
                <Stack key={s.id ?? `new-${i}`} direction={{ xs: 'column', sm: 'row' }} gap={1} alignItems={{ sm: 'center' }}>
                  <IconButton aria-label="up" onClick={() => up(i)} disabled={i === 0}><ArrowUpwardIcon /></IconButton>
                  <TextField size="small" label={translate('accord.settings.stage_name_ru')} value={s.names.ru ?? ''} onChange={(e) => update(i, { names: { ...s.names, ru: e.target.value } })} />
                  <TextField size="small" label={translate('accord.settings.stage_name_en')} value={s.names.en ?? ''} onChange={(e) => update(i, { names: { ...s.names, en: e.target.value } })} />
                  <TextField size="small" select label={translate('accord.settings.kind')} value={s.kind} onChange={(e) => update(i, { kind: e.target.value as StageRow['kind'] })}>
                    {['open', 'won', 'lost'].map((k) => <MenuItem key={k} value={k}>{translate(`choices.stage_kind.${k}`)}</MenuItem>)}
                  </TextField>
                  <TextField size="small" type="number" label={translate('accord.settings.probability')} value={s.probability} onChange={(e) => update(i, { probability: Number(e.target.value) })} sx={{ width: 130 }} />
                  <IconButton aria-label={`${translate('ra.action.delete')}: ${s.names.ru || s.names.en || ''}`} onClick={() => setEditing({ ...editing, stages: editing.stages.filter((_, j) => j !== i) })}><DeleteIcon /></IconButton>
                </Stack>
              ))}
              {removed.map((r) => (
                <TextField key={r.id} size="small" select sx={{ maxWidth: 420 }} label={translate('accord.settings.deals_of_stage_go_to', { stage: named(r) })}
                  value={editing.moves[r.id] ?? targets(r.kind)[0]?.id ?? ''} onChange={(e) => setEditing({ ...editing, moves: { ...editing.moves, [r.id]: Number(e.target.value) } })}>
                  {targets(r.kind).map((t) => <MenuItem key={t.id} value={t.id}>{t.names.ru || t.names.en}</MenuItem>)}
                </TextField>
              ))}
              <Stack direction="row" gap={1}>
                <Button label="accord.settings.add_stage" onClick={() => setEditing({ ...editing, stages: [...editing.stages.slice(0, -2), { names: { ru: '', en: '' }, kind: 'open', probability: 50 }, ...editing.stages.slice(-2)] })} />
                <Button label="ra.action.save" variant="contained" onClick={save} />
                <Button label="ra.action.cancel" onClick={() => setEditing(null)} />
              </Stack>
            </Stack>
          ) : (
            <Typography variant="body2">{p.stages.map((s) => `${named(s)} (${s.probability} %)`).join(' → ')}</Typography>
          )}
        </Box>
      ))}
      <Stack direction={{ xs: 'column', sm: 'row' }} gap={2}>
        <TextField size="small" label={translate('accord.settings.pipeline_name_ru')} value={draft.ru} onChange={(e) => setDraft({ ...draft, ru: e.target.value })} />
        <TextField size="small" label={translate('accord.settings.pipeline_name_en')} value={draft.en} onChange={(e) => setDraft({ ...draft, en: e.target.value })} />
        <Button label="accord.settings.add_pipeline" variant="contained" disabled={!draft.ru.trim() && !draft.en.trim()} onClick={create} />
      </Stack>
    </Stack>
  );
};

const LostReasonsTab = () => {
  const translate = useTranslate();
  const named = useNamed();
  const { items, run } = useList<{ id: number; name: string; names: { ru?: string; en?: string }; requires_comment: boolean; active: boolean }>('lost_reasons');
  const [ru, setRu] = useState('');
  const [en, setEn] = useState('');
  return (
    <Stack gap={2}>
      <Grid head={['accord.settings.reason_name', 'accord.settings.needs_comment', 'accord.settings.active']}>
        {items.map((r) => (
          <TableRow key={r.id}>
            <TableCell>{named(r)}</TableCell>
            <TableCell><Checkbox checked={r.requires_comment} onChange={(e) => run(() => apiFetch(`lost_reasons/${r.id}`, { method: 'PATCH', body: json({ requires_comment: e.target.checked }) }))} /></TableCell>
            <TableCell><Switch checked={r.active} onChange={(e) => run(() => apiFetch(`lost_reasons/${r.id}`, { method: 'PATCH', body: json({ active: e.target.checked }) }))} /></TableCell>
          </TableRow>
        ))}
      </Grid>
      <Stack direction={{ xs: 'column', sm: 'row' }} gap={2}>
        <TextField size="small" label={translate('accord.settings.stage_name_ru')} value={ru} onChange={(e) => setRu(e.target.value)} />
        <TextField size="small" label={translate('accord.settings.stage_name_en')} value={en} onChange={(e) => setEn(e.target.value)} />
        <Button label="accord.settings.add" variant="contained" disabled={!ru.trim() && !en.trim()}
          onClick={() => run(() => apiFetch('lost_reasons', { method: 'POST', body: json({ names: { ru: ru || undefined, en: en || undefined } }) })).then(() => { setRu(''); setEn(''); })} />
      </Stack>
    </Stack>
  );
};

const splitList = (text: string) => text.split(',').map((o) => o.trim()).filter(Boolean);

const FIELD_TYPES = ['text', 'long_text', 'number', 'money', 'date', 'date_time', 'boolean', 'select', 'multi_select', 'email', 'phone', 'url'];
const ENTITIES = ['contact', 'company', 'product', 'deal', 'lead', 'activity', 'task'];

const CustomFieldsTab = () => {
  const translate = useTranslate();
  const { items, run } = useList<{ id: number; entity: string; key: string; label: string; field_type: string; options: string[]; required: boolean }>('custom_fields');
  const [draft, setDraft] = useState({ entity: 'contact', key: '', label: '', field_type: 'text', options: '' });
  const [edit, setEdit] = useState<{ id: number; label: string; options: string; required: boolean } | null>(null);
  const add = () => run(() => apiFetch('custom_fields', { method: 'POST', body: json({ ...draft, options: splitList(draft.options) }) }), 'accord.settings.saved')
    .then((ok) => ok && setDraft({ ...draft, key: '', label: '', options: '' }));
  return (
    <Stack gap={2}>
      <Grid head={['accord.settings.entity', 'accord.settings.field_key', 'accord.settings.field_label', 'accord.settings.field_type', '']}>
        {items.map((f) => (
          <TableRow key={f.id}>
            <TableCell>{translate(`accord.entity.${f.entity}`)}</TableCell><TableCell>{f.key}</TableCell>
            <TableCell>
              {edit?.id === f.id ? (
                <Stack gap={1}>
                  <TextField size="small" label={translate('accord.settings.field_label')} value={edit.label} onChange={(e) => setEdit({ ...edit, label: e.target.value })} />
                  {f.field_type.endsWith('select') && <TextField size="small" label={translate('accord.settings.field_options')} value={edit.options} onChange={(e) => setEdit({ ...edit, options: e.target.value })} />}
                  <FormControlLabel control={<Checkbox checked={edit.required} onChange={(e) => setEdit({ ...edit, required: e.target.checked })} />} label={translate('accord.settings.field_required')} />
                  <Stack direction="row" gap={1}>
                    <Button label="ra.action.save" variant="contained" onClick={() => run(() => apiFetch(`custom_fields/${f.id}`, { method: 'PATCH', body: json({ label: edit.label, required: edit.required, ...(f.field_type.endsWith('select') ? { options: splitList(edit.options) } : {}) }) }), 'accord.settings.saved').then((ok) => ok && setEdit(null))} />
                    <Button label="ra.action.cancel" onClick={() => setEdit(null)} />
                  </Stack>
                </Stack>
              ) : f.label}
            </TableCell>
            <TableCell>{f.field_type}{f.options.length > 0 && `: ${f.options.join(', ')}`}</TableCell>
            <TableCell sx={{ whiteSpace: 'nowrap' }}>
              <IconButton aria-label={`${translate('ra.action.edit')} ${f.key}`} onClick={() => setEdit({ id: f.id, label: f.label, options: f.options.join(', '), required: f.required })}><EditIcon /></IconButton>
              <IconButton aria-label={`${translate('ra.action.delete')} ${f.key}`} onClick={() => run(() => apiFetch(`custom_fields/${f.id}`, { method: 'DELETE' }))}><DeleteIcon /></IconButton>
            </TableCell>
          </TableRow>
        ))}
      </Grid>
      <Stack direction={{ xs: 'column', md: 'row' }} gap={2}>
        <TextField size="small" select label={translate('accord.settings.entity')} value={draft.entity} onChange={(e) => setDraft({ ...draft, entity: e.target.value })}>
          {ENTITIES.map((e) => <MenuItem key={e} value={e}>{translate(`accord.entity.${e}`)}</MenuItem>)}
        </TextField>
        <TextField size="small" label={translate('accord.settings.field_key')} value={draft.key} onChange={(e) => setDraft({ ...draft, key: e.target.value })} />
        <TextField size="small" label={translate('accord.settings.field_label')} value={draft.label} onChange={(e) => setDraft({ ...draft, label: e.target.value })} />
        <TextField size="small" select label={translate('accord.settings.field_type')} value={draft.field_type} onChange={(e) => setDraft({ ...draft, field_type: e.target.value })}>
          {FIELD_TYPES.map((t) => <MenuItem key={t} value={t}>{t}</MenuItem>)}
        </TextField>
        {draft.field_type.endsWith('select') && <TextField size="small" label={translate('accord.settings.field_options')} value={draft.options} onChange={(e) => setDraft({ ...draft, options: e.target.value })} />}
        <Button label="accord.settings.add" variant="contained" disabled={!draft.key || !draft.label} onClick={add} />
      </Stack>
    </Stack>
  );
};

const RatesTab = () => {
  const translate = useTranslate();
  const { items, run } = useList<{ id: number; currency: string; rate: string; valid_from: string }>('exchange_rates');
  const [draft, setDraft] = useState({ currency: 'USD', rate: '', valid_from: new Date().toISOString().slice(0, 10) });
  return (
    <Stack gap={2}>
      <Grid head={['accord.settings.currency', 'accord.settings.rate', 'accord.settings.date', '']}>
        {items.map((r) => (
          <TableRow key={r.id}>
            <TableCell>{r.currency}</TableCell><TableCell>{r.rate}</TableCell><TableCell>{r.valid_from}</TableCell>
            <TableCell><IconButton aria-label={`${translate('ra.action.delete')} ${r.currency} ${r.valid_from}`} onClick={() => run(() => apiFetch(`exchange_rates/${r.id}`, { method: 'DELETE' }))}><DeleteIcon /></IconButton></TableCell>
          </TableRow>
        ))}
      </Grid>
      <Stack direction={{ xs: 'column', sm: 'row' }} gap={2}>
        <TextField size="small" label={translate('accord.settings.currency')} value={draft.currency} onChange={(e) => setDraft({ ...draft, currency: e.target.value.toUpperCase() })} />
        <TextField size="small" label={translate('accord.settings.rate')} value={draft.rate} onChange={(e) => setDraft({ ...draft, rate: e.target.value })} />
        <TextField size="small" type="date" label={translate('accord.settings.date')} value={draft.valid_from} onChange={(e) => setDraft({ ...draft, valid_from: e.target.value })} slotProps={{ inputLabel: { shrink: true } }} />
        <Button label="accord.settings.add" variant="contained" disabled={!draft.rate} onClick={() => run(() => apiFetch('exchange_rates', { method: 'POST', body: json(draft) }), 'accord.settings.saved')} />
      </Stack>
    </Stack>
  );
};

const firstOfMonth = () => { const d = new Date(); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-01`; };

const GoalsTab = () => {
  const translate = useTranslate();
  const { items: users } = useList<Member>('users');
  const { items: teams } = useList<Team>('teams');
  const [range] = useState(() => { const y = new Date().getFullYear(); return `from=${y}-01-01&to=${y}-12-31`; });
  const { items, run } = useList<Goal>(`goals?${range}`);
  const [draft, setDraft] = useState({ metric: 'won_amount', period: 'month', period_start: firstOfMonth(), owner: '', target: '' });
  const whose = (g: Goal) => g.user_id !== null ? users.find((u) => u.user_id === g.user_id)?.name ?? g.user_id : teams.find((t) => t.id === g.team_id)?.name ?? g.team_id;
  const [kind, id] = draft.owner.split(':');
  const body = { metric: draft.metric, period: draft.period, period_start: draft.period_start, target: draft.target, ...(kind === 'team' ? { team_id: Number(id) } : { user_id: Number(id) }) };
  return (
    <Stack gap={2}>
      <Grid head={['accord.goals.whose', 'accord.goals.metric', 'accord.goals.period', 'accord.goals.target', 'accord.goals.actual', '']}>
        {items.map((g) => (
          <TableRow key={g.id}>
            <TableCell>{whose(g)}</TableCell>
            <TableCell>{translate(`accord.goals.metrics.${g.metric}`)}</TableCell>
            <TableCell>{translate(`accord.goals.periods.${g.period}`)} {g.period_start}</TableCell>
            <TableCell>
              <TextField size="small" defaultValue={g.target} slotProps={{ htmlInput: { 'aria-label': `${translate('accord.goals.target')}: ${whose(g)}` } }}
                onBlur={(e) => e.target.value !== g.target && run(() => apiFetch(`goals/${g.id}`, { method: 'PATCH', body: json({ version: g.version, target: e.target.value }) }), 'accord.settings.saved')} />
            </TableCell>
            <TableCell>{g.actual} ({g.percent ?? '—'} %)</TableCell>
            <TableCell><IconButton aria-label={`${translate('ra.action.delete')} ${whose(g)}`} onClick={() => run(() => apiFetch(`goals/${g.id}`, { method: 'DELETE' }))}><DeleteIcon /></IconButton></TableCell>
          </TableRow>
        ))}
      </Grid>
      <Stack direction={{ xs: 'column', sm: 'row' }} gap={2} sx={{ flexWrap: 'wrap' }}>
        <TextField select size="small" sx={{ minWidth: 200 }} label={translate('accord.goals.whose')} value={draft.owner} onChange={(e) => setDraft({ ...draft, owner: e.target.value })}>
          {users.map((u) => <MenuItem key={`u${u.user_id}`} value={`user:${u.user_id}`}>{u.name}</MenuItem>)}
          {teams.map((t) => <MenuItem key={`t${t.id}`} value={`team:${t.id}`}>{translate('accord.goals.team', { name: t.name })}</MenuItem>)}
        </TextField>
        <TextField select size="small" sx={{ minWidth: 180 }} label={translate('accord.goals.metric')} value={draft.metric} onChange={(e) => setDraft({ ...draft, metric: e.target.value })}>
          {['won_amount', 'won_deals', 'calls'].map((m) => <MenuItem key={m} value={m}>{translate(`accord.goals.metrics.${m}`)}</MenuItem>)}
        </TextField>
        <TextField select size="small" sx={{ minWidth: 140 }} label={translate('accord.goals.period')} value={draft.period} onChange={(e) => setDraft({ ...draft, period: e.target.value })}>
          {['month', 'quarter'].map((m) => <MenuItem key={m} value={m}>{translate(`accord.goals.periods.${m}`)}</MenuItem>)}
        </TextField>
        <TextField size="small" type="date" label={translate('accord.goals.period_start')} value={draft.period_start} onChange={(e) => setDraft({ ...draft, period_start: e.target.value })} slotProps={{ inputLabel: { shrink: true } }} />
        <TextField size="small" label={translate('accord.goals.target')} value={draft.target} onChange={(e) => setDraft({ ...draft, target: e.target.value })} />
        <Button label="accord.settings.add" variant="contained" disabled={!draft.owner || !draft.target} onClick={() => run(() => apiFetch('goals', { method: 'POST', body: json(body) }), 'accord.settings.saved')} />
      </Stack>
    </Stack>
  );
};

const WebFormsTab = () => {
  const translate = useTranslate();
  const notify = useNotify();
  const { items, run } = useList<{ id: number; name: string; form_key: string; active: boolean; source: string | null }>('web_forms');
  const [name, setName] = useState('');
  const snippet = (key: string) => `<form method="post" action="${window.location.origin}/api/v1/forms/${key}">
  <input name="name" placeholder="Имя" required>
  <input name="email" type="email" placeholder="E-mail">
  <input name="phone" placeholder="Телефон">
  <textarea name="message"></textarea>
  <input name="_hp" style="display:none" tabindex="-1" autocomplete="off">
  <button type="submit">Отправить</button>
</form>`;
  return (
    <Stack gap={2}>
      {items.map((f) => (
        <Box key={f.id}>
          <Stack direction="row" alignItems="center" gap={2}>
            <Typography variant="subtitle1" component="h3">{f.name}</Typography>
            <Switch checked={f.active} onChange={(e) => run(() => apiFetch(`web_forms/${f.id}`, { method: 'PATCH', body: json({ active: e.target.checked }) }))}
              slotProps={{ input: { 'aria-label': `${translate('accord.settings.active')}: ${f.name}` } }} />
            <Button label="accord.common.copy" onClick={() => navigator.clipboard?.writeText(snippet(f.form_key)).then(() => notify('accord.common.copied'))} />
          </Stack>
          <TextField fullWidth multiline label={translate('accord.settings.snippet')} value={snippet(f.form_key)} slotProps={{ htmlInput: { readOnly: true } }} />
        </Box>
      ))}
      <Stack direction="row" gap={2}>
        <TextField size="small" label={translate('accord.settings.form_name')} value={name} onChange={(e) => setName(e.target.value)} />
        <Button label="accord.settings.add" variant="contained" disabled={!name.trim()} onClick={() => run(() => apiFetch('web_forms', { method: 'POST', body: json({ name }) })).then(() => setName(''))} />
      </Stack>
    </Stack>
  );
};

interface RestoreReport {
  restored: Record<string, number>;
  left_out: Record<string, number>;
  accounts_without_password: string[];
  web_forms_with_new_key: string[];
}

/** The whole workspace as one file (docs/workspace-archive.md), and its restore into an empty workspace. */
const ArchiveTab = ({ owner }: { owner: boolean }) => {
  const translate = useTranslate();
  const notify = useNotify();
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<RestoreReport | null>(null);
  const restore = async () => {
    if (!file) return;
    setBusy(true);
    try {
      setReport(await apiFetch<RestoreReport>('workspace/archive', { method: 'POST', body: file, headers: { 'Content-Type': 'application/zip' } }));
      notify('accord.archive.restored');
    } catch (e) {
      const err = e as HttpError;
      notify([err.message, ...Object.values(fieldMessages(err, translate))].join(': '), { type: 'error' });
    } finally { setBusy(false); }
  };
  const total = report ? Object.values(report.restored).reduce((a, b) => a + b, 0) : 0;
  return (
    <Stack gap={2} sx={{ maxWidth: 640 }}>
      <Typography variant="body2">{translate('accord.archive.about')}</Typography>
      <Box><Button label="accord.archive.download" variant="contained" href={`${API}/workspace/archive`} component="a" /></Box>
      <Typography variant="subtitle1">{translate('accord.archive.restore_title')}</Typography>
      <Typography variant="body2" color="text.secondary">{translate('accord.archive.restore_about')}</Typography>
      {owner ? (
        <Stack direction="row" gap={2} alignItems="center" flexWrap="wrap">
          <input type="file" accept=".zip,application/zip" aria-label={translate('accord.archive.file')} onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
          <Button label="accord.archive.restore" variant="outlined" disabled={!file || busy} onClick={restore} />
        </Stack>
      ) : <Alert severity="info">{translate('accord.archive.owners_only')}</Alert>}
      {report && (
        <Alert severity="success">
          {translate('accord.archive.restored_rows', { count: total, smart_count: total })}
          {Object.entries(report.left_out).map(([t, n]) => <div key={t}>{translate('accord.archive.left_out', { table: t, count: n })}</div>)}
          {report.accounts_without_password.length > 0 && <div>{translate('accord.archive.without_password', { emails: report.accounts_without_password.join(', ') })}</div>}
          {report.web_forms_with_new_key.length > 0 && <div>{translate('accord.archive.new_form_keys', { forms: report.web_forms_with_new_key.join(', ') })}</div>}
        </Alert>
      )}
    </Stack>
  );
};

interface PriceListRow { id: number; name: string; names: { ru?: string; en?: string }; currency: string; active: boolean; version: number }
interface ListPrice { product_id: number; product_name: string; price: string }

/** Price lists in one currency each; a deal that follows one takes its lines' prices from it. */
const PriceListsTab = () => {
  const translate = useTranslate();
  const named = useNamed();
  const { items, run } = useList<PriceListRow>('price_lists');
  const [draft, setDraft] = useState({ ru: '', en: '', currency: 'RUB' });
  const [open, setOpen] = useState<number | null>(null);
  return (
    <Stack gap={2}>
      <Grid head={['accord.settings.price_list', 'accord.settings.currency', 'accord.settings.active', '']}>
        {items.map((l) => (
          <TableRow key={l.id} selected={open === l.id}>
            <TableCell><Button label={named(l)} onClick={() => setOpen(open === l.id ? null : l.id)} /></TableCell>
            <TableCell>{l.currency}</TableCell>
            <TableCell><Switch checked={l.active} onChange={(e) => run(() => apiFetch(`price_lists/${l.id}`, { method: 'PATCH', body: json({ version: l.version, active: e.target.checked }) }))} /></TableCell>
            <TableCell><IconButton aria-label={`${translate('ra.action.delete')} ${named(l)}`} onClick={() => run(() => apiFetch(`price_lists/${l.id}`, { method: 'DELETE' }))}><DeleteIcon /></IconButton></TableCell>
          </TableRow>
        ))}
      </Grid>
      {open !== null && <ListPrices listId={open} />}
      <Stack direction={{ xs: 'column', sm: 'row' }} gap={2}>
        <TextField size="small" label={translate('accord.settings.stage_name_ru')} value={draft.ru} onChange={(e) => setDraft({ ...draft, ru: e.target.value })} />
        <TextField size="small" label={translate('accord.settings.stage_name_en')} value={draft.en} onChange={(e) => setDraft({ ...draft, en: e.target.value })} />
        <TextField size="small" label={translate('accord.settings.currency')} value={draft.currency} onChange={(e) => setDraft({ ...draft, currency: e.target.value.toUpperCase() })} sx={{ width: 110 }} />
        <Button label="accord.settings.add" variant="contained" disabled={!draft.ru.trim() && !draft.en.trim()}
          onClick={() => run(() => apiFetch('price_lists', { method: 'POST', body: json({ names: { ru: draft.ru || undefined, en: draft.en || undefined }, currency: draft.currency }) }), 'accord.settings.saved').then((ok) => ok && setDraft({ ru: '', en: '', currency: draft.currency }))} />
      </Stack>
    </Stack>
  );
};

/** One list's prices: change or remove one, add a product found by name or article. */
const ListPrices = ({ listId }: { listId: number }) => {
  const translate = useTranslate();
  const { items, run } = useList<ListPrice>(`price_lists/${listId}/prices?limit=200`);
  const [edits, setEdits] = useState<Record<number, string>>({});
  const [product, setProduct] = useState<{ id: number; display_name: string } | null>(null);
  const [options, setOptions] = useState<{ id: number; display_name: string }[]>([]);
  const [price, setPrice] = useState('');
  const search = (text: string) => {
    if (!text.trim()) return;
    apiFetch<{ data: { id: number; display_name: string }[] }>(`search?${new URLSearchParams({ q: text, entity: 'product', limit: '20' })}`).then((r) => setOptions(r.data)).catch(() => setOptions([]));
  };
  const put = (productId: number, value: string) => run(() => apiFetch(`price_lists/${listId}/prices/${productId}`, { method: 'PUT', body: json({ price: value }) }), 'accord.settings.saved');
  return (
    <Box sx={{ pl: { sm: 2 } }}>
      <Grid head={['accord.settings.product', 'accord.settings.list_price', '']}>
        {items.map((r) => (
          <TableRow key={r.product_id}>
            <TableCell>{r.product_name}</TableCell>
            <TableCell>
              <TextField size="small" value={edits[r.product_id] ?? r.price} slotProps={{ htmlInput: { 'aria-label': `${translate('accord.settings.list_price')}: ${r.product_name}` } }}
                onChange={(e) => setEdits({ ...edits, [r.product_id]: e.target.value })}
                onBlur={() => edits[r.product_id] !== undefined && edits[r.product_id] !== r.price && put(r.product_id, edits[r.product_id])} />
            </TableCell>
            <TableCell><IconButton aria-label={`${translate('ra.action.delete')} ${r.product_name}`} onClick={() => run(() => apiFetch(`price_lists/${listId}/prices/${r.product_id}`, { method: 'DELETE' }))}><DeleteIcon /></IconButton></TableCell>
          </TableRow>
        ))}
      </Grid>
      <Stack direction={{ xs: 'column', sm: 'row' }} gap={2} sx={{ mt: 1 }}>
        <Autocomplete size="small" sx={{ minWidth: 260 }} options={options} value={product} getOptionLabel={(o) => o.display_name} isOptionEqualToValue={(a, b) => a.id === b.id}
          filterOptions={(o) => o} onInputChange={(_, text) => search(text)} onChange={(_, v) => setProduct(v)}
          renderInput={(params) => <TextField {...params} label={translate('accord.settings.product')} />} />
        <TextField size="small" label={translate('accord.settings.list_price')} value={price} onChange={(e) => setPrice(e.target.value)} />
        <Button label="accord.settings.add" variant="contained" disabled={!product || !price.trim()}
          onClick={() => product && put(product.id, price).then((ok) => { if (ok) { setProduct(null); setPrice(''); } })} />
      </Stack>
    </Box>
  );
};

const TAGGED = ['contacts', 'companies', 'deals', 'leads', 'products', 'activities', 'tasks'];

/** Tags of a kind of record with their use; rename (or merge into another) and remove everywhere. */
const TagsTab = () => {
  const translate = useTranslate();
  const [entity, setEntity] = useState('contacts');
  const { items, run } = useList<{ tag: string; records: number }>(`tags?entity=${entity}`);
  const [names, setNames] = useState<Record<string, string>>({});
  const change = (tag: string, renameTo?: string) => run(() => apiFetch('tags/change', { method: 'POST', body: json({ entity, tag, rename_to: renameTo }) }), 'accord.settings.saved');
  return (
    <Stack gap={2}>
      <TextField size="small" select label={translate('accord.settings.entity')} value={entity} onChange={(e) => setEntity(e.target.value)} sx={{ maxWidth: 260 }}>
        {TAGGED.map((e) => <MenuItem key={e} value={e}>{translate(`resources.${e}.name`, { smart_count: 2 })}</MenuItem>)}
      </TextField>
      {items.length === 0 && <Typography variant="body2">{translate('accord.settings.no_tags')}</Typography>}
      <Grid head={['accord.common.tag', 'accord.settings.tag_records', 'accord.settings.rename_to', '']}>
        {items.map((t) => (
          <TableRow key={t.tag}>
            <TableCell>{t.tag}</TableCell>
            <TableCell>{t.records}</TableCell>
            <TableCell>
              <Stack direction="row" gap={1} alignItems="center">
                <TextField size="small" value={names[t.tag] ?? ''} onChange={(e) => setNames({ ...names, [t.tag]: e.target.value })}
                  slotProps={{ htmlInput: { 'aria-label': `${translate('accord.settings.rename_to')}: ${t.tag}` } }} />
                <Button label="accord.settings.rename" disabled={!names[t.tag]?.trim()} onClick={() => change(t.tag, names[t.tag])} />
              </Stack>
            </TableCell>
            <TableCell><IconButton aria-label={`${translate('ra.action.delete')} ${t.tag}`} onClick={() => change(t.tag)}><DeleteIcon /></IconButton></TableCell>
          </TableRow>
        ))}
      </Grid>
    </Stack>
  );
};
