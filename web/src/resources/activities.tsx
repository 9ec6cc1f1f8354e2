import { Create, FormDataConsumer, NumberInput, ReferenceField, SelectField, SelectInput, TextField, TextInput } from 'react-admin';
import { ZonedDateField, ZonedDateTimeInput } from './zoned';
import EventNoteIcon from '@mui/icons-material/EventNote';
import { OwnerField, OwnerInput, RecordEdit, RecordList, TagsInput, choices, LiveForm } from './common';
import { CustomFieldInputs } from './CustomFieldInputs';
import { LinkInputs } from './tasks';

const KINDS = choices('activity_kind', ['call', 'meeting', 'email', 'note']);
const OUTCOMES = choices('call_outcome', ['connected', 'no_answer', 'busy', 'voicemail', 'wrong_number', 'other']);
const DIRECTIONS = choices('direction', ['inbound', 'outbound']);

const ActivityList = () => (
  <RecordList sort={{ field: 'updated_at', order: 'DESC' }} filters={[<SelectInput key="kind" source="kind" choices={KINDS} />]}
    primaryText={(r) => r.subject ?? r.display_name} secondaryText={(r) => r.kind}>
    <SelectField source="kind" choices={KINDS} />
    <TextField source="subject" />
    <ZonedDateField source="at" showTime sortable={false} />
    <ReferenceField source="contact_id" reference="contacts" />
    <ReferenceField source="company_id" reference="companies" />
    <ReferenceField source="deal_id" reference="deals" />
    <OwnerField />
  </RecordList>
);

const ActivityFields = () => (
  <>
    <SelectInput source="kind" choices={KINDS} defaultValue="call" />
    <TextInput source="subject" fullWidth />
    <FormDataConsumer>{({ formData }) => (
      <>
        {(formData.kind === 'call' || formData.kind === 'email') && <SelectInput source="direction" choices={DIRECTIONS} />}
        {formData.kind === 'call' && <><SelectInput source="outcome" choices={OUTCOMES} /><NumberInput source="duration_seconds" /></>}
        {formData.kind === 'meeting' && <><ZonedDateTimeInput source="starts_at" /><ZonedDateTimeInput source="ends_at" /><TextInput source="place" /></>}
      </>
    )}</FormDataConsumer>
    <ZonedDateTimeInput source="done_at" />
    <TextInput source="body" multiline fullWidth />
    <LinkInputs />
    <TagsInput />
    <OwnerInput />
    <CustomFieldInputs entity="activity" />
  </>
);

const ActivityEdit = () => <RecordEdit aside={false}><LiveForm><ActivityFields /></LiveForm></RecordEdit>;
const ActivityCreate = () => <Create redirect="list"><LiveForm><ActivityFields /></LiveForm></Create>;

export const activities = { list: ActivityList, edit: ActivityEdit, create: ActivityCreate, icon: EventNoteIcon, recordRepresentation: 'display_name' };
