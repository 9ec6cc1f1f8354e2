import { useCallback, useEffect, useState } from 'react';
import { Title, useNotify, useTranslate } from 'react-admin';
import { Link } from 'react-router-dom';
import { Alert, Box, Button, Card, CardContent, Checkbox, Chip, FormControl, InputLabel, MenuItem, Radio, Select, Stack, Typography } from '@mui/material';
import { apiFetch, json } from '../api';

interface Group { score: number; reasons: string[]; records: { id: number; display_name: string }[] }
interface Merged { survivor_id: number; merged_id: number; merge_id: number | null; error: string | null }
interface Finding { check: string; count: number; capped: boolean; sample: number[] }

/** Counts of incomplete records, each with a link to the first of them in the list. */
const Incomplete = ({ entity }: { entity: 'contacts' | 'companies' }) => {
  const translate = useTranslate();
  const [findings, setFindings] = useState<Finding[]>([]);
  useEffect(() => { apiFetch<Finding[]>(`data_quality/${entity}`).then(setFindings).catch(() => setFindings([])); }, [entity]);
  return (
    <Box sx={{ mt: 2, display: 'flex', gap: 1, flexWrap: 'wrap', alignItems: 'center' }} data-testid="data-quality">
      <Typography variant="subtitle2">{translate('accord.duplicates.incomplete')}:</Typography>
      {findings.map((f) => (
        <Chip key={f.check} size="small" variant="outlined" clickable={f.count > 0} component={f.count > 0 ? Link : 'div'}
          to={`/${entity}?filter=${encodeURIComponent(JSON.stringify({ 'id[in]': f.sample.join(',') }))}`}
          label={`${translate(`accord.duplicates.checks.${f.check}`)}: ${f.count}${f.capped ? '+' : ''}`} />
      ))}
    </Box>
  );
};

/** Candidate groups of duplicates, strongest first; the user keeps a survivor and ticks the groups to merge. */
export const DuplicatesPage = () => {
  const translate = useTranslate();
  const notify = useNotify();
  const [entity, setEntity] = useState<'contacts' | 'companies'>('contacts');
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [survivors, setSurvivors] = useState<Record<number, number>>({});
  const [chosen, setChosen] = useState<Set<number>>(new Set());
  const [result, setResult] = useState<Merged[] | null>(null);
  const load = useCallback(() => {
    setGroups(null);
    apiFetch<Group[]>(`duplicates/${entity}?limit=100`).then((g) => {
      setGroups(g);
      setSurvivors(Object.fromEntries(g.map((x, i) => [i, x.records[0].id])));
      setChosen(new Set());
    }).catch(() => setGroups([]));
  }, [entity]);
  useEffect(load, [load]);
  const merge = async () => {
    if (!groups) return;
    const body = [...chosen].map((i) => ({ survivor_id: survivors[i], merged_ids: groups[i].records.map((r) => r.id).filter((id) => id !== survivors[i]) }));
    try {
      setResult(await apiFetch<Merged[]>(`duplicates/${entity}/merge`, { method: 'POST', body: json({ groups: body }) }));
      load();
    } catch (e) { notify((e as { message?: string }).message ?? 'ra.notification.http_error', { type: 'error' }); }
  };
  return (
    <Box sx={{ mt: 1 }}>
      <Title title={translate('accord.duplicates.title')} />
      <Card><CardContent>
        <Box sx={{ display: 'flex', gap: 2, alignItems: 'center', flexWrap: 'wrap' }}>
          <FormControl size="small" sx={{ minWidth: 200 }}>
            <InputLabel id="dup-entity">{translate('accord.duplicates.among')}</InputLabel>
            <Select labelId="dup-entity" label={translate('accord.duplicates.among')} value={entity} onChange={(e) => { setResult(null); setEntity(e.target.value as 'contacts' | 'companies'); }}>
              <MenuItem value="contacts">{translate('resources.contacts.name', { smart_count: 2 })}</MenuItem>
              <MenuItem value="companies">{translate('resources.companies.name', { smart_count: 2 })}</MenuItem>
            </Select>
          </FormControl>
          <Button variant="contained" disabled={chosen.size === 0} onClick={merge}>{translate('accord.duplicates.merge', { smart_count: chosen.size })}</Button>
          <Typography variant="body2" color="text.secondary">{translate('accord.duplicates.hint')}</Typography>
        </Box>
        <Incomplete entity={entity} />
        {result && (
          <Alert severity={result.some((r) => r.error) ? 'warning' : 'success'} sx={{ mt: 2 }} data-testid="merge-result">
            {translate('accord.duplicates.merged', { smart_count: result.filter((r) => r.merge_id).length })}
            {result.filter((r) => r.error).map((r) => ` #${r.merged_id}: ${r.error}`).join(';')}
          </Alert>
        )}
        {groups?.length === 0 && <Typography sx={{ mt: 2 }}>{translate('accord.duplicates.none')}</Typography>}
        <Stack spacing={1} sx={{ mt: 2 }}>
          {(groups ?? []).map((g, i) => (
            <Card key={g.records.map((r) => r.id).join('-')} variant="outlined" data-testid="duplicate-group">
              <CardContent sx={{ py: 1, '&:last-child': { pb: 1 } }}>
                <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, flexWrap: 'wrap' }}>
                  <Checkbox checked={chosen.has(i)} inputProps={{ 'aria-label': translate('accord.duplicates.choose') }}
                    onChange={() => setChosen((c) => { const n = new Set(c); if (n.has(i)) n.delete(i); else n.add(i); return n; })} />
                  <Chip size="small" label={g.score} color={g.score >= 90 ? 'error' : g.score >= 75 ? 'warning' : 'default'} />
                  {g.reasons.map((r) => <Chip key={r} size="small" variant="outlined" label={translate(`accord.duplicates.reasons.${r}`)} />)}
                </Box>
                {g.records.map((r) => (
                  <Box key={r.id} sx={{ display: 'flex', alignItems: 'center', pl: 5 }}>
                    <Radio size="small" checked={survivors[i] === r.id} onChange={() => setSurvivors((s) => ({ ...s, [i]: r.id }))} inputProps={{ 'aria-label': `${translate('accord.duplicates.keep')} ${r.display_name}` }} />
                    <Link to={`/${entity}/${r.id}`}>{r.display_name || `#${r.id}`}</Link>
                    {survivors[i] === r.id && <Typography variant="caption" color="text.secondary" sx={{ ml: 1 }}>{translate('accord.duplicates.keep')}</Typography>}
                  </Box>
                ))}
              </CardContent>
            </Card>
          ))}
        </Stack>
      </CardContent></Card>
    </Box>
  );
};
