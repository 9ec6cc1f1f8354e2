import { AutocompleteInput, required, Create, NumberInput, ReferenceField, ReferenceInput, SelectField, SelectInput, TextField, TextInput } from 'react-admin';
import { ZonedDateField, ZonedDateTimeInput } from './zoned';
import TaskIcon from '@mui/icons-material/TaskAlt';
import { OwnerField, OwnerInput, RecordEdit, RecordList, TagsInput, choices, LiveForm } from './common';
import { CustomFieldInputs } from './CustomFieldInputs';
import { useMoment } from '../time';

const STATUSES = choices('task_status', ['open', 'done', 'cancelled']);
const PRIORITIES = choices('priority', ['low', 'normal', 'high']);
const RECURRENCES = choices('recurrence', ['none', 'daily', 'weekly', 'monthly']);

/** Links of an activity or a task to the records it is about. */
export const LinkInputs = () => (
  <>
    <ReferenceInput source="contact_id" reference="contacts"><AutocompleteInput optionText="display_name" /></ReferenceInput>
    <ReferenceInput source="company_id" reference="companies"><AutocompleteInput optionText="display_name" /></ReferenceInput>
    <ReferenceInput source="deal_id" reference="deals"><AutocompleteInput optionText="title" /></ReferenceInput>
    <ReferenceInput source="lead_id" reference="leads"><AutocompleteInput optionText="name" /></ReferenceInput>
  </>
);

const TaskList = () => {
  const moment = useMoment();
  return (
    <RecordList sort={{ field: 'due_at', order: 'ASC' }}
      filters={[<SelectInput key="status" source="status" choices={STATUSES} />, <SelectInput key="priority" source="priority" choices={PRIORITIES} />]}
      primaryText={(r) => r.title} secondaryText={(r) => (r.due_at ? moment(r.due_at) : '')}>
      <TextField source="title" />
      <ZonedDateField source="due_at" showTime />
      <SelectField source="status" choices={STATUSES} />
      <SelectField source="priority" choices={PRIORITIES} />
      <ReferenceField source="contact_id" reference="contacts" />
      <ReferenceField source="deal_id" reference="deals" />
      <OwnerField />
    </RecordList>
  );
};

const TaskFields = () => (
  <>
    <TextInput source="title" fullWidth validate={required()} />
    <ZonedDateTimeInput source="due_at" />
    <SelectInput source="priority" choices={PRIORITIES} defaultValue="normal" />
    <SelectInput source="status" choices={STATUSES} defaultValue="open" />
    <NumberInput source="remind_before_minutes" />
    <SelectInput source="recurrence" choices={RECURRENCES} defaultValue="none" />
    <TextInput source="description" multiline fullWidth />
    <LinkInputs />
    <TagsInput />
    <OwnerInput />
    <CustomFieldInputs entity="task" />
  </>
);

const TaskEdit = () => <RecordEdit aside={false}><LiveForm><TaskFields /></LiveForm></RecordEdit>;
const TaskCreate = () => <Create redirect="list"><LiveForm><TaskFields /></LiveForm></Create>;

export const tasks = { list: TaskList, edit: TaskEdit, create: TaskCreate, icon: TaskIcon, recordRepresentation: 'title' };
