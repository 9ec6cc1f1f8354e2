import { useState } from 'react';
import { Button, useNotify, useRecordContext, useResourceContext, useTranslate } from 'react-admin';
import { Dialog, DialogActions, DialogContent, DialogTitle, MenuItem, Stack, TextField } from '@mui/material';
import PhoneIcon from '@mui/icons-material/Phone';
import EventIcon from '@mui/icons-material/Event';
import AddTaskIcon from '@mui/icons-material/AddTask';
import { apiFetch, fieldMessages, json } from '../api';
import { LINK_KEY } from './links';

const OUTCOMES = ['connected', 'no_answer', 'busy', 'voicemail', 'wrong_number', 'other'];

type Kind = 'call' | 'meeting' | 'task';

/** A local date-time for a datetime-local input, an hour from now. */
const inAnHour = () => {
  const d = new Date(Date.now() + 3600_000 - new Date().getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

/** Log a call, plan a meeting or add a task about the record on the page. */
export const QuickActivity = ({ onDone }: { onDone: () => void }) => {
  const [kind, setKind] = useState<Kind | null>(null);
  return (
    <>
      <Button label="accord.common.log_call" onClick={() => setKind('call')}><PhoneIcon /></Button>
      <Button label="accord.common.plan_meeting" onClick={() => setKind('meeting')}><EventIcon /></Button>
      <Button label="accord.common.add_task" onClick={() => setKind('task')}><AddTaskIcon /></Button>
      {kind && <QuickDialog kind={kind} onClose={(saved) => { setKind(null); if (saved) onDone(); }} />}
    </>
  );
};

const QuickDialog = ({ kind, onClose }: { kind: Kind; onClose: (saved: boolean) => void }) => {
  const record = useRecordContext();
  const resource = useResourceContext() ?? '';
  const translate = useTranslate();
  const notify = useNotify();
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [outcome, setOutcome] = useState('connected');
  const [when, setWhen] = useState(inAnHour());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const title = translate(kind === 'call' ? 'accord.common.log_call' : kind === 'meeting' ? 'accord.common.plan_meeting' : 'accord.common.add_task');
  const save = async () => {
    const link = { [LINK_KEY[resource]]: record?.id };
    const at = when ? new Date(when).toISOString() : null;
    const [path, data] = kind === 'task'
      ? ['tasks', { title: subject, description: body || null, due_at: at, ...link }]
      : ['activities', kind === 'call'
        ? { kind: 'call', subject, body: body || null, outcome, done_at: new Date().toISOString(), ...link }
        : { kind: 'meeting', subject, body: body || null, starts_at: at, ...link }];
    try {
      await apiFetch(path, { method: 'POST', body: json(data) });
      onClose(true);
    } catch (e) {
      const fieldErrors = fieldMessages(e, translate);
      setErrors(fieldErrors);
      if (!Object.keys(fieldErrors).length) notify((e as Error).message, { type: 'error' });
    }
  };
  const subjectKey = kind === 'task' ? 'title' : 'subject';
  const whenKey = kind === 'task' ? 'due_at' : 'starts_at';
  return (
    <Dialog open onClose={() => onClose(false)} fullWidth maxWidth="sm">
      <DialogTitle>{title}</DialogTitle>
      <DialogContent>
        <Stack gap={2} sx={{ pt: 1 }}>
          <TextField autoFocus required label={translate(kind === 'task' ? 'resources.tasks.fields.title' : 'accord.common.subject')} value={subject}
            onChange={(e) => setSubject(e.target.value)} error={!!errors[subjectKey]} helperText={errors[subjectKey]} />
          {kind === 'call' && (
            <TextField select label={translate('accord.common.outcome')} value={outcome} onChange={(e) => setOutcome(e.target.value)}>
              {OUTCOMES.map((o) => <MenuItem key={o} value={o}>{translate(`choices.call_outcome.${o}`)}</MenuItem>)}
            </TextField>
          )}
          {kind !== 'call' && (
            <TextField type="datetime-local" label={translate(kind === 'task' ? 'accord.common.due_at' : 'accord.common.starts_at')} value={when}
              onChange={(e) => setWhen(e.target.value)} error={!!errors[whenKey]} helperText={errors[whenKey]} slotProps={{ inputLabel: { shrink: true } }} />
          )}
          <TextField multiline minRows={3} label={translate('resources.activities.fields.body')} value={body} onChange={(e) => setBody(e.target.value)} />
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button label="ra.action.cancel" onClick={() => onClose(false)} />
        <Button label="ra.action.save" variant="contained" onClick={save} />
      </DialogActions>
    </Dialog>
  );
};
