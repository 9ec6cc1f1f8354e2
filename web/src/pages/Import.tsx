import { useCallback, useEffect, useState } from 'react';
import { Title, useGetList, useNotify, useTranslate } from 'react-admin';
import {
  Alert, Box, Button, Card, CardContent, Checkbox, FormControl, FormControlLabel, InputLabel, LinearProgress, MenuItem, Select,
  Table, TableBody, TableCell, TableHead, TableRow, Typography,
} from '@mui/material';
import UploadFileIcon from '@mui/icons-material/UploadFile';
import { API, apiFetch, fieldMessages, json } from '../api';
import { useMoment } from '../time';

type Counts = { created: number; updated: number; skipped: number; failed: number; lines?: number };
interface Options {
  mode: 'upsert' | 'create_only' | 'update_only'; match_on: string[] | null; create_missing: string[];
  unknown_owner_to_me: boolean; create_custom_fields: boolean; allow_duplicates: boolean; default_lost_reason_id: number | null;
  pipeline_id: number | null; phone_region: string | null; keep_invalid_values: boolean; company_by_email_domain: boolean;
}
export interface ImportDoc {
  id: number; entity: string; file_name: string; total_rows: number; processed_rows: number; status: string; version: number;
  detected: { format: string; encoding: string | null; delimiter: string | null; preset: { name: string; label: string } | null };
  headers: string[]; mapping: (string | null)[]; options: Options; sample: string[][]; targets: string[];
  check: Counts | null; run: Counts | null; error: string | null; created_at: string;
}
interface RowReport { row: number; line: number; action: string; record_id: number | null; problems: { column: string | null; code: string; message: string; params?: Record<string, string | number> }[] }

const ENTITIES = ['contacts', 'companies', 'deals', 'products', 'leads', 'activities', 'tasks'] as const;
const SINGULAR: Record<string, string> = { contacts: 'contact', companies: 'company', deals: 'deal', products: 'product', leads: 'lead', activities: 'activity', tasks: 'task' };
const PLURAL = Object.fromEntries(Object.entries(SINGULAR).map(([k, v]) => [v, k]));
const MATCH_KEYS = ['email', 'phone', 'inn', 'sku', 'external_id'];
const CREATABLE = ['company', 'contact', 'product'];
const BUSY = ['checking', 'running'];
/** Countries whose numbers CRM files most often hold without a country code. */
const REGIONS = ['RU', 'BY', 'KZ', 'UA', 'UZ', 'AM', 'GE', 'US', 'CA', 'GB', 'DE', 'FR', 'TR', 'CN', 'AE'];

/** The label of an import target: the record's field name where there is one. */
const useTargetLabel = (resource: string) => {
  const translate = useTranslate();
  return (id: string) => translate(`accord.imports.targets.${id}`, { _: translate(`resources.${resource}.fields.${id}`, { _: id }) });
};

const CountsLine = ({ counts, prefix }: { counts: Counts; prefix: string }) => {
  const translate = useTranslate();
  return (
    <Typography data-testid={`${prefix}-counts`}>
      {(['created', 'updated', 'skipped', 'failed', 'lines'] as const).filter((k) => k !== 'lines' || (counts.lines ?? 0) > 0)
        .map((k) => `${translate(`accord.imports.${prefix}.${k}`)}: ${counts[k] ?? 0}`).join(' · ')}
    </Typography>
  );
};

/** Rows that failed or were skipped, with why, as the check or run reported them. */
const Problems = ({ doc, phase }: { doc: ImportDoc; phase: 'check' | 'run' }) => {
  const translate = useTranslate();
  const [rows, setRows] = useState<RowReport[]>([]);
  useEffect(() => {
    Promise.all(['fail', 'skip'].map((a) => apiFetch<{ data: RowReport[] }>(`imports/${doc.id}/rows?phase=${phase}&action=${a}&limit=50`)))
      .then((pages) => setRows(pages.flatMap((p) => p.data).sort((a, b) => a.row - b.row)))
      .catch(() => setRows([]));
  }, [doc.id, doc.version, phase]);
  if (rows.length === 0) return null;
  return (
    <Box sx={{ mt: 1 }}>
      <Table size="small" data-testid={`${phase}-problems`}>
        <TableHead><TableRow>
          <TableCell>{translate('accord.imports.line')}</TableCell><TableCell>{translate('accord.imports.outcome')}</TableCell>
          <TableCell>{translate('accord.imports.column')}</TableCell><TableCell>{translate('accord.imports.why')}</TableCell>
        </TableRow></TableHead>
        <TableBody>
          {rows.flatMap((r) => r.problems.map((p, i) => (
            <TableRow key={`${r.row}-${i}`}>
              <TableCell>{r.line}</TableCell>
              <TableCell>{translate(`accord.imports.actions.${r.action}`)}</TableCell>
              <TableCell>{p.column ?? ''}</TableCell>
              <TableCell>{translate(`accord.imports.problems.${p.code}`, { ...p.params, _: p.message })}</TableCell>
            </TableRow>
          )))}
        </TableBody>
      </Table>
      <Button href={`${API}/imports/${doc.id}/rows?phase=${phase}&format=csv`} size="small" sx={{ mt: 1 }}>{translate('accord.imports.download_report')}</Button>
    </Box>
  );
};

const Mapping = ({ doc, onChange }: { doc: ImportDoc; onChange: (mapping: (string | null)[], options: Options) => void }) => {
  const translate = useTranslate();
  const resource = PLURAL[doc.entity];
  const label = useTargetLabel(resource);
  const { data: fields } = useGetList('custom_fields', { pagination: { page: 1, perPage: 500 } });
  const { data: reasons } = useGetList('lost_reasons', { pagination: { page: 1, perPage: 100 } }, { enabled: doc.entity === 'deal' });
  const { data: pipelines } = useGetList('pipelines', { pagination: { page: 1, perPage: 100 } }, { enabled: doc.entity === 'deal' });
  const custom = (fields ?? []).filter((f) => f.entity === doc.entity).map((f) => ({ id: `cf.${f.key}`, name: f.label as string }));
  const { mapping, options } = doc;
  const matchOn = options.match_on ?? [{ contact: 'email', company: 'inn', product: 'sku' }[doc.entity] ?? 'external_id'];
  const toggle = (list: string[], v: string) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);
  const editable = ['draft', 'checked', 'failed'].includes(doc.status) && !doc.run;
  return (
    <Box>
      <Box sx={{ overflowX: 'auto' }}>
        <Table size="small" data-testid="mapping">
          <TableHead><TableRow>
            <TableCell>{translate('accord.imports.column')}</TableCell><TableCell>{translate('accord.imports.example')}</TableCell><TableCell>{translate('accord.imports.field')}</TableCell>
          </TableRow></TableHead>
          <TableBody>
            {doc.headers.map((h, i) => (
              <TableRow key={i}>
                <TableCell>{doc.detected.format === 'vcard' ? label(h) : h}</TableCell>
                <TableCell sx={{ maxWidth: 220, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', color: 'text.secondary' }}>{doc.sample.map((r) => r[i]).filter(Boolean).slice(0, 2).join(' · ')}</TableCell>
                <TableCell>
                  <Select size="small" value={mapping[i] ?? ''} displayEmpty disabled={!editable} inputProps={{ 'aria-label': h }} sx={{ minWidth: 220 }}
                    onChange={(e) => onChange(mapping.map((m, j) => (j === i ? (e.target.value || null) : m)), options)}>
                    <MenuItem value=""><em>{translate('accord.imports.skip_column')}</em></MenuItem>
                    {doc.targets.map((t) => <MenuItem key={t} value={t}>{label(t)}</MenuItem>)}
                    {custom.map((c) => <MenuItem key={c.id} value={c.id}>{c.name}</MenuItem>)}
                  </Select>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </Box>
      <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 2, mt: 2, alignItems: 'center' }}>
        <FormControl size="small" sx={{ minWidth: 240 }}>
          <InputLabel id="import-mode">{translate('accord.imports.mode')}</InputLabel>
          <Select labelId="import-mode" label={translate('accord.imports.mode')} value={options.mode} disabled={!editable}
            onChange={(e) => onChange(mapping, { ...options, mode: e.target.value as Options['mode'] })}>
            {['upsert', 'create_only', 'update_only'].map((m) => <MenuItem key={m} value={m}>{translate(`accord.imports.modes.${m}`)}</MenuItem>)}
          </Select>
        </FormControl>
        <Typography variant="body2">{translate('accord.imports.match_on')}:</Typography>
        {MATCH_KEYS.map((k) => (
          <FormControlLabel key={k} label={translate(`accord.imports.keys.${k}`)} disabled={!editable}
            control={<Checkbox size="small" checked={matchOn.includes(k)} onChange={() => onChange(mapping, { ...options, match_on: toggle(matchOn, k) })} />} />
        ))}
      </Box>
      <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 2, alignItems: 'center' }}>
        <Typography variant="body2">{translate('accord.imports.create_missing')}:</Typography>
        {CREATABLE.map((k) => (
          <FormControlLabel key={k} label={translate(`accord.entity.${k}`)} disabled={!editable}
            control={<Checkbox size="small" checked={options.create_missing.includes(k)} onChange={() => onChange(mapping, { ...options, create_missing: toggle(options.create_missing, k) })} />} />
        ))}
        <FormControlLabel label={translate('accord.imports.unknown_owner_to_me')} disabled={!editable}
          control={<Checkbox size="small" checked={options.unknown_owner_to_me} onChange={() => onChange(mapping, { ...options, unknown_owner_to_me: !options.unknown_owner_to_me })} />} />
        <FormControlLabel label={translate('accord.imports.create_custom_fields')} disabled={!editable}
          control={<Checkbox size="small" checked={options.create_custom_fields} onChange={() => onChange(mapping, { ...options, create_custom_fields: !options.create_custom_fields })} />} />
        {doc.entity === 'contact' && (
          <FormControlLabel label={translate('accord.imports.company_by_email_domain')} disabled={!editable}
            control={<Checkbox size="small" checked={options.company_by_email_domain} onChange={() => onChange(mapping, { ...options, company_by_email_domain: !options.company_by_email_domain })} />} />
        )}
        <FormControlLabel label={translate('accord.imports.keep_invalid_values')} disabled={!editable}
          control={<Checkbox size="small" checked={options.keep_invalid_values} onChange={() => onChange(mapping, { ...options, keep_invalid_values: !options.keep_invalid_values })} />} />
        <FormControl size="small" sx={{ minWidth: 200 }}>
          <InputLabel id="import-region">{translate('accord.imports.phone_region')}</InputLabel>
          <Select labelId="import-region" label={translate('accord.imports.phone_region')} value={options.phone_region ?? ''} disabled={!editable}
            onChange={(e) => onChange(mapping, { ...options, phone_region: e.target.value || null })}>
            <MenuItem value=""><em>{translate('accord.imports.workspace_region')}</em></MenuItem>
            {REGIONS.map((r) => <MenuItem key={r} value={r}>{r}</MenuItem>)}
          </Select>
        </FormControl>
        {doc.entity === 'deal' && (
          <FormControl size="small" sx={{ minWidth: 240 }}>
            <InputLabel id="import-pipeline">{translate('accord.imports.pipeline')}</InputLabel>
            <Select labelId="import-pipeline" label={translate('accord.imports.pipeline')} value={String(options.pipeline_id ?? '')} disabled={!editable}
              onChange={(e) => onChange(mapping, { ...options, pipeline_id: e.target.value ? Number(e.target.value) : null })}>
              <MenuItem value=""><em>—</em></MenuItem>
              {(pipelines ?? []).map((p) => <MenuItem key={p.id} value={String(p.id)}>{p.name}</MenuItem>)}
            </Select>
          </FormControl>
        )}
        {doc.entity === 'deal' && (
          <FormControl size="small" sx={{ minWidth: 240 }}>
            <InputLabel id="import-lost">{translate('accord.imports.default_lost_reason')}</InputLabel>
            <Select labelId="import-lost" label={translate('accord.imports.default_lost_reason')} value={String(options.default_lost_reason_id ?? '')} disabled={!editable}
              onChange={(e) => onChange(mapping, { ...options, default_lost_reason_id: e.target.value ? Number(e.target.value) : null })}>
              <MenuItem value=""><em>—</em></MenuItem>
              {(reasons ?? []).map((r) => <MenuItem key={r.id} value={String(r.id)}>{r.name}</MenuItem>)}
            </Select>
          </FormControl>
        )}
      </Box>
    </Box>
  );
};

/** Upload → mapping and options → check (nothing written) → run with progress → undo. */
export const ImportPage = () => {
  const translate = useTranslate();
  const notify = useNotify();
  const moment = useMoment();
  const [entity, setEntity] = useState<string>('contacts');
  const [doc, setDoc] = useState<ImportDoc | null>(null);
  const [undone, setUndone] = useState<{ removed: number; restored: number; changed_since: number[] } | null>(null);
  const [history, setHistory] = useState<ImportDoc[]>([]);
  const loadHistory = useCallback(() => { apiFetch<{ data: ImportDoc[] }>('imports?limit=10').then((p) => setHistory(p.data)).catch(() => setHistory([])); }, []);
  useEffect(loadHistory, [loadHistory]);

  // Follows a check or run until it ends.
  useEffect(() => {
    if (!doc || !BUSY.includes(doc.status)) return;
    const timer = setTimeout(() => { apiFetch<ImportDoc>(`imports/${doc.id}`).then(setDoc).catch(() => undefined); }, 500);
    return () => clearTimeout(timer);
  }, [doc]);
  useEffect(() => { if (doc && ['done', 'undone'].includes(doc.status)) loadHistory(); }, [doc?.status, loadHistory]);

  // The page has no inputs to mark: what the server says of a field (the file above all) is the message itself.
  const fail = (e: unknown) => {
    const said = Object.values(fieldMessages(e, translate));
    notify(said.length ? said.join('; ') : (e as { message?: string }).message ?? 'ra.notification.http_error', { type: 'error' });
  };
  const upload = async (file: File) => {
    setUndone(null);
    try {
      const created = await apiFetch<ImportDoc>(`imports?${new URLSearchParams({ entity, file_name: file.name })}`, { method: 'POST', body: file, headers: { 'Content-Type': 'application/octet-stream' } });
      setDoc(created);
    } catch (e) { fail(e); }
  };
  const change = async (mapping: (string | null)[], options: Options) => {
    if (!doc) return;
    try { setDoc(await apiFetch<ImportDoc>(`imports/${doc.id}`, { method: 'PATCH', body: json({ version: doc.version, mapping, options }) })); } catch (e) { fail(e); }
  };
  const step = async (what: 'check' | 'run') => {
    if (!doc) return;
    try { setDoc(await apiFetch<ImportDoc>(`imports/${doc.id}/${what}`, { method: 'POST' })); } catch (e) { fail(e); }
  };
  const undo = async () => {
    if (!doc) return;
    try {
      setUndone(await apiFetch(`imports/${doc.id}/undo`, { method: 'POST' }));
      setDoc(await apiFetch<ImportDoc>(`imports/${doc.id}`));
    } catch (e) { fail(e); }
  };
  const busy = doc !== null && BUSY.includes(doc.status);
  const d = doc?.detected;
  return (
    <Box sx={{ mt: 1 }}>
      <Title title={translate('accord.imports.title')} />
      <Card><CardContent>
        <Box sx={{ display: 'flex', gap: 2, flexWrap: 'wrap', alignItems: 'center' }}>
          <FormControl size="small" sx={{ minWidth: 200 }}>
            <InputLabel id="import-entity">{translate('accord.imports.entity')}</InputLabel>
            <Select labelId="import-entity" label={translate('accord.imports.entity')} value={entity} onChange={(e) => setEntity(e.target.value)}>
              {ENTITIES.map((e) => <MenuItem key={e} value={e}>{translate(`resources.${e}.name`, { smart_count: 2 })}</MenuItem>)}
            </Select>
          </FormControl>
          <Button variant="contained" component="label" startIcon={<UploadFileIcon />}>
            {translate('accord.imports.choose_file')}
            <input hidden type="file" accept=".csv,.txt,.tsv,.xlsx,.vcf" data-testid="import-file" onChange={(e) => { const f = e.target.files?.[0]; if (f) void upload(f); e.target.value = ''; }} />
          </Button>
          <Typography variant="body2" color="text.secondary">{translate('accord.imports.hint')}</Typography>
        </Box>
        {doc && d && (
          <Box sx={{ mt: 2 }}>
            <Typography variant="subtitle1" data-testid="import-detected">
              {doc.file_name}: {translate('accord.imports.rows', { smart_count: doc.total_rows })} · {d.format.toUpperCase()}
              {d.encoding ? ` · ${d.encoding}` : ''}{d.delimiter ? ` · «${d.delimiter === '\t' ? 'Tab' : d.delimiter}»` : ''}
              {d.preset ? ` · ${translate('accord.imports.recognised', { name: d.preset.label })}` : ''}
            </Typography>
            <Mapping doc={doc} onChange={change} />
            <Box sx={{ display: 'flex', gap: 2, mt: 2, alignItems: 'center', flexWrap: 'wrap' }}>
              <Button variant="outlined" onClick={() => step('check')} disabled={busy || !!doc.run}>{translate('accord.imports.check_button')}</Button>
              <Button variant="contained" onClick={() => step('run')} disabled={busy || !!doc.run || doc.status !== 'checked'}>{translate('accord.imports.run_button')}</Button>
              {doc.status === 'failed' && doc.run && <Button variant="contained" onClick={() => step('run')}>{translate('accord.imports.continue_button')}</Button>}
              {(doc.status === 'done' || (doc.status === 'failed' && doc.run)) && <Button color="warning" onClick={undo}>{translate('accord.imports.undo_button')}</Button>}
              <Typography variant="body2" data-testid="import-status">{translate(`accord.imports.statuses.${doc.status}`)}</Typography>
            </Box>
            {busy && <LinearProgress variant="determinate" value={doc.total_rows ? (100 * doc.processed_rows) / doc.total_rows : 0} sx={{ mt: 1 }} aria-label={translate(`accord.imports.statuses.${doc.status}`)} />}
            {doc.error && <Alert severity="error" sx={{ mt: 1 }}>{doc.error}</Alert>}
            {doc.check && !doc.run && <Box sx={{ mt: 2 }}><CountsLine counts={doc.check} prefix="check" />{doc.status === 'checked' && <Problems doc={doc} phase="check" />}</Box>}
            {doc.run && <Box sx={{ mt: 2 }}><CountsLine counts={doc.run} prefix="run" />{!busy && <Problems doc={doc} phase="run" />}</Box>}
            {undone && (
              <Alert severity="info" sx={{ mt: 1 }} data-testid="undo-result">
                {translate('accord.imports.undone', { removed: undone.removed, restored: undone.restored })}
                {undone.changed_since.length > 0 && ` ${translate('accord.imports.changed_since', { ids: undone.changed_since.map((i) => `#${i}`).join(', ') })}`}
              </Alert>
            )}
          </Box>
        )}
      </CardContent></Card>
      {history.length > 0 && (
        <Card sx={{ mt: 2 }}><CardContent>
          <Typography variant="subtitle1" component="h2">{translate('accord.imports.history')}</Typography>
          <Table size="small">
            <TableBody>
              {history.map((h) => (
                <TableRow key={h.id} hover sx={{ cursor: 'pointer' }} onClick={() => { setUndone(null); apiFetch<ImportDoc>(`imports/${h.id}`).then(setDoc).catch(fail); }}>
                  <TableCell>{moment(h.created_at)}</TableCell>
                  <TableCell>{h.file_name}</TableCell>
                  <TableCell>{translate(`resources.${PLURAL[h.entity]}.name`, { smart_count: 2 })}</TableCell>
                  <TableCell>{translate(`accord.imports.statuses.${h.status}`)}</TableCell>
                  <TableCell>{h.run ? `+${h.run.created} / ~${h.run.updated} / ✕${h.run.failed}` : ''}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </CardContent></Card>
      )}
    </Box>
  );
};
