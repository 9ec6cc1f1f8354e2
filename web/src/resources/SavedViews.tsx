import { useEffect, useState } from 'react';
import { Button, useListContext, useNotify, usePermissions, useResourceContext, useStore, useTranslate } from 'react-admin';
import { Alert, Checkbox, Chip, Dialog, DialogActions, DialogContent, DialogTitle, Divider, FormControlLabel, IconButton, Menu, MenuItem, TextField } from '@mui/material';
import BookmarksIcon from '@mui/icons-material/Bookmarks';
import DeleteIcon from '@mui/icons-material/Delete';
import { apiFetch, fieldMessages, json } from '../api';
import { isAdmin } from '../authProvider';

interface View { id: number; name: string; params: Record<string, string>; columns: string[]; shared: boolean; editable: boolean }
interface Column { index: string; source?: string }

/** Filters that belong to this screen rather than to the list query (free text goes through search). */
const NOT_SAVED = ['q', 'trash'];

/**
 * Saved views of a list (`/api/v1/views`): apply one (its filters, sort and columns), save
 * the current one for yourself or, as an admin, for everyone, remove your own.
 */
export const SavedViewsButton = () => {
  const resource = useResourceContext() ?? '';
  const { filterValues, sort, setFilters, setSort } = useListContext();
  const [available] = useStore<Column[]>(`preferences.${resource}.datagrid.availableColumns`, []);
  const [columns, setColumns] = useStore<string[] | undefined>(`preferences.${resource}.datagrid.columns`);
  const { permissions } = usePermissions();
  const translate = useTranslate();
  const notify = useNotify();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const [views, setViews] = useState<View[]>([]);
  const [saving, setSaving] = useState(false);
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const load = () => { apiFetch<View[]>(`views?entity=${resource}`).then(setViews).catch((e) => notify((e as Error).message, { type: 'error' })); };
  useEffect(() => { if (anchor) load(); }, [anchor]); // eslint-disable-line react-hooks/exhaustive-deps

  const apply = (v: View) => {
    const { sort: order, ...filters } = v.params;
    setFilters(filters, Object.fromEntries(Object.keys(filters).map((k) => [k, true])));
    if (order) setSort({ field: order.replace(/^-/, ''), order: order.startsWith('-') ? 'DESC' : 'ASC' });
    const indexes = v.columns.map((source) => available.find((c) => c.source === source)?.index).filter((i): i is string => i !== undefined);
    if (indexes.length) setColumns(indexes);
    setAnchor(null);
  };
  const save = async () => {
    const params: Record<string, string> = {};
    for (const [k, value] of Object.entries(filterValues ?? {})) {
      if (NOT_SAVED.includes(k) || value === undefined || value === null || value === '') continue;
      params[k] = Array.isArray(value) ? value.join(',') : String(value);
    }
    if (sort?.field && sort.field !== 'id') params.sort = `${sort.order === 'DESC' ? '-' : ''}${sort.field}`;
    const shown = (columns ?? available.map((c) => c.index)).map((i) => available.find((c) => c.index === i)?.source).filter((s): s is string => !!s);
    try {
      await apiFetch('views', { method: 'POST', body: json({ entity: resource, name, params, columns: shown, shared }) });
      notify('accord.views.saved');
      setSaving(false);
      setName('');
      setShared(false);
      setError(null);
    } catch (e) {
      setError([(e as Error).message, ...Object.entries(fieldMessages(e, translate)).map(([f, m]) => `${f}: ${m}`)].join('; '));
    }
  };
  const remove = async (v: View) => {
    try {
      await apiFetch(`views/${v.id}`, { method: 'DELETE' });
      notify('accord.views.removed');
      load();
    } catch (e) { notify((e as Error).message, { type: 'error' }); }
  };
  return (
    <>
      <Button label="accord.views.title" onClick={(e) => setAnchor(e.currentTarget)}><BookmarksIcon /></Button>
      <Menu anchorEl={anchor} open={anchor !== null} onClose={() => setAnchor(null)}>
        {views.length === 0 && <MenuItem disabled>{translate('accord.views.none')}</MenuItem>}
        {views.map((v) => (
          <MenuItem key={v.id} onClick={() => apply(v)} sx={{ gap: 1 }}>
            {v.name}
            {v.shared && <Chip size="small" label={translate('accord.views.shared')} />}
            {v.editable && (
              <IconButton size="small" edge="end" aria-label={`${translate('ra.action.delete')}: ${v.name}`} onClick={(e) => { e.stopPropagation(); remove(v); }}>
                <DeleteIcon fontSize="small" />
              </IconButton>
            )}
          </MenuItem>
        ))}
        <Divider />
        <MenuItem onClick={() => { setAnchor(null); setSaving(true); }}>{translate('accord.views.save_current')}</MenuItem>
      </Menu>
      <Dialog open={saving} onClose={() => setSaving(false)} fullWidth maxWidth="xs">
        <DialogTitle>{translate('accord.views.save_current')}</DialogTitle>
        <DialogContent>
          <TextField autoFocus fullWidth margin="dense" label={translate('accord.views.name')} value={name} onChange={(e) => setName(e.target.value)} />
          {isAdmin(permissions) && <FormControlLabel control={<Checkbox checked={shared} onChange={(e) => setShared(e.target.checked)} />} label={translate('accord.views.share')} />}
          {filterValues?.q && <Alert severity="info" sx={{ mt: 1 }}>{translate('accord.views.search_not_saved')}</Alert>}
          {error && <Alert severity="error" sx={{ mt: 1 }}>{error}</Alert>}
        </DialogContent>
        <DialogActions>
          <Button label="ra.action.cancel" onClick={() => setSaving(false)} />
          <Button label="ra.action.save" variant="contained" disabled={!name.trim()} onClick={save} />
        </DialogActions>
      </Dialog>
    </>
  );
};
