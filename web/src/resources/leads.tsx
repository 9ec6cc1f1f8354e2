import { useState } from 'react';
import {
  Create, ReferenceField, SelectField, SelectInput, TextField, TextInput, TopToolbar, Button, useRecordContext,
  useTranslate, useNotify, useRedirect, HttpError, usePermissions,
} from 'react-admin';
import { ZonedDateField } from './zoned';
import { Dialog, DialogActions, DialogContent, DialogTitle, FormControlLabel, Checkbox, Stack, TextField as MuiTextField, Alert } from '@mui/material';
import InboxIcon from '@mui/icons-material/MoveToInbox';
import TransformIcon from '@mui/icons-material/Transform';
import { OwnerField, OwnerInput, RecordEdit, RecordList, TagsField, TagsInput, choices, looksLikeEmail, LiveForm } from './common';
import { CustomFieldInputs } from './CustomFieldInputs';
import { apiFetch, json } from '../api';
import { canWrite } from '../authProvider';

const STATUSES = choices('lead_status', ['new', 'in_work', 'qualified', 'disqualified']);

const LeadList = () => (
  <RecordList filters={[<SelectInput key="status" source="status" choices={STATUSES} />, <TextInput key="source" source="source" />]}
    primaryText={(r) => r.name} secondaryText={(r) => [r.company_name, r.email, r.phone].filter(Boolean).join(' · ')}>
    <TextField source="name" />
    <TextField source="company_name" />
    <TextField source="email" />
    <TextField source="phone" />
    <SelectField source="status" choices={STATUSES} />
    <TextField source="source" />
    <TagsField />
    <OwnerField />
    <ZonedDateField source="created_at" showTime />
  </RecordList>
);

const LeadFields = () => (
  <>
    <TextInput source="name" />
    <TextInput source="email" validate={looksLikeEmail} />
    <TextInput source="phone" />
    <TextInput source="company_name" />
    <TextInput source="inn" />
    <TextInput source="message" multiline fullWidth />
    <TextInput source="source" />
    <SelectInput source="status" choices={STATUSES} defaultValue="new" />
    <TextInput source="disqualify_reason" />
    <TagsInput />
    <OwnerInput />
    <CustomFieldInputs entity="lead" />
  </>
);

/** Conversion: a contact, a company and (optionally) a deal in one request. */
const ConvertButton = () => {
  const record = useRecordContext();
  const translate = useTranslate();
  const notify = useNotify();
  const redirect = useRedirect();
  const { permissions } = usePermissions();
  const [open, setOpen] = useState(false);
  const [createDeal, setCreateDeal] = useState(true);
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  if (!record || record.converted_at || !canWrite(permissions)) return null;
  const convert = async () => {
    try {
      const res = await apiFetch<{ deal_id: number | null; contact_id: number | null }>(`leads/${record.id}/convert`, {
        method: 'POST', body: json({ create_deal: createDeal, deal: createDeal && title.trim() ? { title } : undefined }),
      });
      notify('accord.lead.converted');
      setOpen(false);
      if (res.deal_id) redirect('edit', 'deals', res.deal_id);
      else if (res.contact_id) redirect('edit', 'contacts', res.contact_id);
    } catch (e) {
      const err = e as HttpError;
      const details = Object.entries((err.body?.errors ?? {}) as Record<string, { args: { _: string } }>).map(([f, m]) => `${f}: ${m.args._}`);
      setError([err.message, ...details].join('; '));
    }
  };
  return (
    <>
      <Button label="accord.lead.convert" onClick={() => { setTitle(record.name ?? ''); setOpen(true); }}><TransformIcon /></Button>
      <Dialog open={open} onClose={() => setOpen(false)} fullWidth maxWidth="sm">
        <DialogTitle>{translate('accord.lead.convert_title')}</DialogTitle>
        <DialogContent>
          <Stack gap={2} sx={{ pt: 1 }}>
            {error && <Alert severity="error">{error}</Alert>}
            <FormControlLabel control={<Checkbox checked={createDeal} onChange={(e) => setCreateDeal(e.target.checked)} />} label={translate('accord.lead.create_deal')} />
            {createDeal && <MuiTextField label={translate('accord.lead.deal_title')} value={title} onChange={(e) => setTitle(e.target.value)} />}
          </Stack>
        </DialogContent>
        <DialogActions>
          <Button label="ra.action.cancel" onClick={() => setOpen(false)} />
          <Button label="accord.lead.convert" variant="contained" onClick={convert} />
        </DialogActions>
      </Dialog>
    </>
  );
};

const LeadLinks = () => {
  const record = useRecordContext();
  if (!record?.converted_at) return null;
  return (
    <Stack direction="row" gap={2} sx={{ mb: 1 }}>
      <ReferenceField source="contact_id" reference="contacts" />
      <ReferenceField source="company_id" reference="companies" />
      <ReferenceField source="deal_id" reference="deals" />
    </Stack>
  );
};

const LeadEdit = () => (
  <RecordEdit actions={<TopToolbar><ConvertButton /></TopToolbar>}>
    <LiveForm><LeadLinks /><LeadFields /></LiveForm>
  </RecordEdit>
);
const LeadCreate = () => <Create redirect="edit"><LiveForm><LeadFields /></LiveForm></Create>;

export const leads = { list: LeadList, edit: LeadEdit, create: LeadCreate, icon: InboxIcon, recordRepresentation: 'name' };
