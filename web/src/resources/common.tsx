import { useState, type ReactElement, type ReactNode } from 'react';
import {
  AutocompleteInput, BulkDeleteButton, Button, CreateButton, Datagrid, DatagridConfigurable, Edit, FilterButton,
  InfiniteList, ReferenceField, ReferenceInput, SelectColumnsButton, SimpleList, TextInput, TopToolbar, useListContext,
  useNotify, useRecordContext, useRefresh, useResourceContext, useTranslate, useUnselectAll, useUpdateMany, BooleanInput,
  usePermissions, SelectInput, type RaRecord, type EditProps, useRedirect, WithRecord, SimpleForm, type SimpleFormProps,
} from 'react-admin';
import { ZonedDateField } from './zoned';
import { SavedViewsButton } from './SavedViews';
import { Dialog, DialogActions, DialogContent, DialogTitle, TextField as MuiTextField, useMediaQuery, type Theme, Alert, Chip, Stack, Menu as MuiMenu, MenuItem } from '@mui/material';
import DownloadIcon from '@mui/icons-material/Download';
import PersonAddIcon from '@mui/icons-material/PersonAdd';
import LocalOfferIcon from '@mui/icons-material/LocalOffer';
import RestoreFromTrashIcon from '@mui/icons-material/RestoreFromTrash';
import { apiFetch } from '../api';
import { canWrite } from '../authProvider';
import { exportUrl } from '../dataProvider';
import { RecordAside } from './RecordAside';

/**
 * A light e-mail check while typing; the API's check (IDN domains such as пример.рф included)
 * is the one that decides.
 */
export const looksLikeEmail = (value: unknown) =>
  typeof value === 'string' && value && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/u.test(value.trim()) ? 'accord.errors.invalid_email' : undefined;

/** A record form whose fields are checked once the user leaves each, then as they type. */
export const LiveForm = (props: SimpleFormProps) => <SimpleForm mode="onTouched" {...props} />;

/** Choices of an API enumeration, labelled from the translation files. */
export const choices = (group: string, ids: readonly string[]) => ids.map((id) => ({ id, name: `choices.${group}.${id}` }));

export const OwnerInput = (props: { source?: string; alwaysOn?: boolean; label?: string }) => (
  <ReferenceInput source={props.source ?? 'owner_id'} reference="users" alwaysOn={props.alwaysOn}>
    <AutocompleteInput optionText="name" label={props.label} />
  </ReferenceInput>
);

export const OwnerField = () => <ReferenceField source="owner_id" reference="users" link={false} />;

/** Tags edit as one comma-separated line. */
export const TagsInput = () => {
  const translate = useTranslate();
  return (
    <TextInput
      source="tags"
      helperText={translate('accord.common.tags_help')}
      format={(v: string[] | undefined) => (Array.isArray(v) ? v.join(', ') : v ?? '')}
      parse={(v: string) => v.split(',').map((t) => t.trim()).filter(Boolean)}
    />
  );
};

export const TagsField = () => {
  const record = useRecordContext();
  return (
    <Stack direction="row" gap={0.5} flexWrap="wrap">
      {(record?.tags ?? []).map((t: string) => <Chip key={t} size="small" label={t} />)}
    </Stack>
  );
};

/** Filters every record list has. */
export const commonFilters = [
  <TextInput key="q" source="q" alwaysOn resettable />,
  <ReferenceInput key="owner" source="owner_id" reference="users"><AutocompleteInput optionText="name" /></ReferenceInput>,
  <TextInput key="tag" source="tag" />,
  <BooleanInput key="trash" source="trash" />,
];

const BulkAssignOwner = () => <BulkDialog icon={<PersonAddIcon />} label="accord.common.assign_owner" input={(set) => (
  <ReferenceInputFree onChange={(id) => set({ owner_id: id })} />
)} />;

const BulkAddTag = () => {
  const translate = useTranslate();
  return <BulkDialog icon={<LocalOfferIcon />} label="accord.common.add_tag" input={(set) => (
    <MuiTextField autoFocus fullWidth label={translate('accord.common.tag')} onChange={(e) => set({ add_tags: [e.target.value.trim()] })} />
  )} />;
};

/** A user picker outside a form (bulk dialogs). */
const ReferenceInputFree = ({ onChange }: { onChange: (id: number) => void }) => {
  const [users, setUsers] = useState<{ user_id: number; name: string }[] | null>(null);
  const translate = useTranslate();
  if (users === null) apiFetch<{ user_id: number; name: string }[]>('users').then(setUsers).catch(() => setUsers([]));
  return (
    <MuiTextField select fullWidth label={translate('accord.common.owner')} defaultValue="" onChange={(e) => onChange(Number(e.target.value))}
      slotProps={{ select: { native: true } }}>
      <option value="" />
      {(users ?? []).map((u) => <option key={u.user_id} value={u.user_id}>{u.name}</option>)}
    </MuiTextField>
  );
};

const BulkDialog = ({ icon, label, input }: { icon: ReactNode; label: string; input: (set: (d: Record<string, unknown>) => void) => ReactNode }) => {
  const { selectedIds } = useListContext();
  const resource = useResourceContext();
  const translate = useTranslate();
  const notify = useNotify();
  const unselectAll = useUnselectAll(resource ?? '');
  const [open, setOpen] = useState(false);
  const [data, setData] = useState<Record<string, unknown>>({});
  const [updateMany, { isPending }] = useUpdateMany();
  const apply = () => updateMany(resource, { ids: selectedIds, data }, {
    onSuccess: () => { setOpen(false); unselectAll(); notify('ra.notification.updated', { messageArgs: { smart_count: selectedIds.length } }); },
    onError: (e) => notify((e as Error).message, { type: 'error' }),
  });
  return (
    <>
      <Button label={label} onClick={() => setOpen(true)}>{icon as React.ReactElement}</Button>
      <Dialog open={open} onClose={() => setOpen(false)} fullWidth maxWidth="xs">
        <DialogTitle>{translate(label)}</DialogTitle>
        <DialogContent sx={{ pt: 1 }}><Stack sx={{ pt: 1 }}>{input(setData)}</Stack></DialogContent>
        <DialogActions>
          <Button label="ra.action.cancel" onClick={() => setOpen(false)} />
          <Button label="ra.action.confirm" variant="contained" disabled={isPending || !Object.keys(data).length} onClick={apply} />
        </DialogActions>
      </Dialog>
    </>
  );
};

const BulkActions = () => {
  const { permissions } = usePermissions();
  if (!canWrite(permissions)) return null;
  return (<><BulkAssignOwner /><BulkAddTag /><BulkDeleteButton mutationMode="pessimistic" /></>);
};

/** Downloads the view as the server writes it: every matching row, streamed, audited. */
const ExportButton = () => {
  const { filterValues, sort } = useListContext();
  const resource = useResourceContext() ?? '';
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const download = async (format: 'csv' | 'xlsx' | 'vcf') => {
    setAnchor(null);
    window.location.assign(await exportUrl(resource, filterValues, sort, format));
  };
  return (
    <>
      <Button label="accord.common.export" onClick={(e) => setAnchor(e.currentTarget)}><DownloadIcon /></Button>
      <MuiMenu anchorEl={anchor} open={anchor !== null} onClose={() => setAnchor(null)}>
        <MenuItem onClick={() => download('csv')}>CSV</MenuItem>
        <MenuItem onClick={() => download('xlsx')}>XLSX (Excel)</MenuItem>
        {resource === 'contacts' && <MenuItem onClick={() => download('vcf')}>vCard</MenuItem>}
      </MuiMenu>
    </>
  );
};

const ListActions = () => {
  const { permissions } = usePermissions();
  return (
    <TopToolbar>
      <FilterButton />
      <SelectColumnsButton />
      <SavedViewsButton />
      {canWrite(permissions) && <CreateButton />}
      <ExportButton />
    </TopToolbar>
  );
};

const RestoreButton = () => {
  const record = useRecordContext();
  const resource = useResourceContext();
  const notify = useNotify();
  const refresh = useRefresh();
  if (!record) return null;
  return (
    <Button label="accord.common.restore" onClick={async (e) => {
      e.stopPropagation();
      try {
        await apiFetch(`${resource}/${record.id}/restore`, { method: 'POST' });
        notify('accord.common.restored');
        refresh();
      } catch (err) { notify((err as Error).message, { type: 'error' }); }
    }}><RestoreFromTrashIcon /></Button>
  );
};

/**
 * A list of records: infinite scroll over keyset pages (no total count), filters, column
 * choice, bulk actions, export of the current view; cards on a phone; the trash filter shows
 * deleted records with a restore button.
 */
export const RecordList = ({ children, filters, primaryText, secondaryText, sort }: {
  children: ReactNode; filters?: ReactElement[]; primaryText: (r: RaRecord) => ReactNode; secondaryText?: (r: RaRecord) => ReactNode;
  sort?: { field: string; order: 'ASC' | 'DESC' };
}) => {
  const small = useMediaQuery((t: Theme) => t.breakpoints.down('md'));
  return (
    <InfiniteList filters={[...commonFilters, ...(filters ?? [])]} actions={<ListActions />} perPage={50} sort={sort ?? { field: 'updated_at', order: 'DESC' }}>
      <TrashAware small={small} primaryText={primaryText} secondaryText={secondaryText}>{children}</TrashAware>
    </InfiniteList>
  );
};

const TrashAware = ({ children, small, primaryText, secondaryText }: {
  children: ReactNode; small: boolean; primaryText: (r: RaRecord) => ReactNode; secondaryText?: (r: RaRecord) => ReactNode;
}) => {
  const { filterValues } = useListContext();
  if (filterValues?.trash) {
    return (
      <Datagrid bulkActionButtons={false} rowClick={false}>
        <WithRecord label="resources.contacts.fields.display_name" render={(r) => <span>{primaryText(r)}</span>} />
        <ZonedDateField source="updated_at" showTime />
        <RestoreButton />
      </Datagrid>
    );
  }
  if (small) return <SimpleList primaryText={primaryText} secondaryText={secondaryText} linkType="edit" />;
  return <DatagridConfigurable rowClick="edit" bulkActionButtons={<BulkActions />}>{children}</DatagridConfigurable>;
};

/**
 * A record page: the fields, editable in place, beside the record's timeline, tasks and
 * history. Saves send the version read; a 409 tells the user and offers a reload.
 */
export const RecordEdit = ({ children, aside = true, ...props }: EditProps & { children: ReactNode; aside?: boolean }) => {
  const notify = useNotify();
  const [conflict, setConflict] = useState(false);
  const translate = useTranslate();
  return (
    <>
      <Edit redirect={false} {...props} mutationMode="pessimistic" aside={aside ? <RecordAside /> : undefined}
        mutationOptions={{ onError: (error: unknown) => {
          const e = error as { status?: number; message: string };
          if (e.status === 409) setConflict(true);
          else notify(e.message, { type: 'error' });
        } }}>
        {children}
      </Edit>
      <Dialog open={conflict} onClose={() => setConflict(false)}>
        <DialogContent><Alert severity="warning">{translate('accord.common.conflict')}</Alert></DialogContent>
        <DialogActions>
          <Button label="ra.action.cancel" onClick={() => setConflict(false)} />
          <Button label="accord.common.reload" variant="contained" onClick={() => window.location.reload()} />
        </DialogActions>
      </Dialog>
    </>
  );
};

export const useGoTo = () => {
  const redirect = useRedirect();
  return (resource: string, id: number) => redirect('edit', resource, id);
};

export { SelectInput };
