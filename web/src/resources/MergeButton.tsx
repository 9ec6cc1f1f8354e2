import { useState } from 'react';
import { Button, TopToolbar, useGetOne, useNotify, useRecordContext, useRefresh, useResourceContext, useTranslate, useGetList, usePermissions } from 'react-admin';
import { Autocomplete, Dialog, DialogActions, DialogContent, DialogTitle, Radio, Table, TableBody, TableCell, TableHead, TableRow, TextField } from '@mui/material';
import MergeIcon from '@mui/icons-material/MergeType';
import { apiFetch, json } from '../api';
import { canWrite } from '../authProvider';

/** Scalar fields offered for a side-by-side choice; lists are united by the server. */
const FIELDS: Record<string, string[]> = {
  contacts: ['last_name', 'first_name', 'middle_name', 'position', 'primary_company_id', 'birthday', 'source', 'description', 'owner_id'],
  companies: ['name', 'legal_name', 'kind', 'inn', 'kpp', 'ogrn', 'website', 'industry', 'employees', 'annual_revenue', 'description', 'owner_id'],
};

const show = (v: unknown) => (v === null || v === undefined || v === '' ? '—' : String(v));

/** Merge another record into this one, choosing per field whose value survives. */
export const MergeButton = () => {
  const record = useRecordContext();
  const resource = useResourceContext() ?? '';
  const translate = useTranslate();
  const notify = useNotify();
  const refresh = useRefresh();
  const { permissions } = usePermissions();
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [otherId, setOtherId] = useState<number | null>(null);
  const [take, setTake] = useState<Record<string, boolean>>({});
  const { data: candidates } = useGetList(resource, { filter: { q: text }, pagination: { page: 1, perPage: 10 } }, { enabled: open && text.trim().length > 1 });
  const { data: other } = useGetOne(resource, { id: otherId ?? 0 }, { enabled: otherId !== null });
  if (!record || !canWrite(permissions)) return <TopToolbar />;
  const merge = async () => {
    try {
      await apiFetch(`${resource}/${record.id}/merge`, { method: 'POST', body: json({ merged_id: otherId, take_from_merged: Object.keys(take).filter((k) => take[k]) }) });
      notify('accord.common.merged');
      setOpen(false);
      refresh();
    } catch (e) { notify((e as Error).message, { type: 'error' }); }
  };
  return (
    <TopToolbar>
      <Button label="accord.common.merge" onClick={() => setOpen(true)}><MergeIcon /></Button>
      <Dialog open={open} onClose={() => setOpen(false)} fullWidth maxWidth="md">
        <DialogTitle>{translate('accord.common.merge')}</DialogTitle>
        <DialogContent>
          <Autocomplete
            sx={{ mt: 1 }}
            options={(candidates ?? []).filter((c) => c.id !== record.id)}
            getOptionLabel={(c) => c.display_name ?? String(c.id)}
            onInputChange={(_, v) => setText(v)}
            onChange={(_, c) => { setOtherId(c ? Number(c.id) : null); setTake({}); }}
            renderInput={(params) => <TextField {...params} label={translate('accord.common.merge_with')} />}
          />
          {other && (
            <Table size="small" sx={{ mt: 2 }} data-testid="merge-table">
              <TableHead>
                <TableRow>
                  <TableCell>{translate('accord.common.field')}</TableCell>
                  <TableCell>{translate('accord.common.merge_keep')}</TableCell>
                  <TableCell>{translate('accord.common.merge_take')}</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {(FIELDS[resource] ?? []).filter((f) => show(record[f]) !== show(other[f])).map((f) => (
                  <TableRow key={f}>
                    <TableCell>{translate(`resources.${resource}.fields.${f}`, { _: f })}</TableCell>
                    <TableCell><Radio checked={!take[f]} onChange={() => setTake({ ...take, [f]: false })} inputProps={{ 'aria-label': `${f}: ${show(record[f])}` }} />{show(record[f])}</TableCell>
                    <TableCell><Radio checked={!!take[f]} onChange={() => setTake({ ...take, [f]: true })} inputProps={{ 'aria-label': `${f}: ${show(other[f])}` }} />{show(other[f])}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </DialogContent>
        <DialogActions>
          <Button label="ra.action.cancel" onClick={() => setOpen(false)} />
          <Button label="accord.common.merge" variant="contained" disabled={!other} onClick={merge} />
        </DialogActions>
      </Dialog>
    </TopToolbar>
  );
};
