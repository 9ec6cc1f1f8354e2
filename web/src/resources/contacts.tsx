import {
  ArrayInput, AutocompleteInput, BooleanInput, Create, DateInput, ReferenceField, ReferenceInput, SelectInput,
  SimpleFormIterator, TextField, TextInput, FunctionField, type RaRecord,
} from 'react-admin';
import { ZonedDateField } from './zoned';
import PeopleIcon from '@mui/icons-material/People';
import { OwnerField, OwnerInput, RecordEdit, RecordList, TagsField, TagsInput, choices, looksLikeEmail, LiveForm } from './common';
import { MergeButton } from './MergeButton';
import { CustomFieldInputs } from './CustomFieldInputs';
import { firstValue } from './links';

const EMAIL_TYPES = ['work', 'personal', 'other'];
const PHONE_TYPES = ['mobile', 'work', 'home', 'fax', 'other'];


const ContactList = () => (
  <RecordList
    sort={{ field: 'last_name', order: 'ASC' }}
    filters={[<TextInput key="email" source="email" />, <TextInput key="phone" source="phone" />]}
    primaryText={(r) => r.display_name}
    secondaryText={(r) => [firstValue(r.emails), firstValue(r.phones)].filter(Boolean).join(' · ')}
  >
    <TextField source="display_name" sortBy="last_name" />
    <TextField source="position" />
    <ReferenceField source="primary_company_id" reference="companies" />
    <FunctionField source="emails" sortable={false} render={(r: RaRecord) => firstValue(r.emails)} />
    <FunctionField source="phones" sortable={false} render={(r: RaRecord) => firstValue(r.phones)} />
    <TagsField />
    <OwnerField />
    <ZonedDateField source="updated_at" showTime />
  </RecordList>
);

/** The contact form; the same fields for create and the record page. */
const ContactFields = () => (
  <>
    <TextInput source="last_name" />
    <TextInput source="first_name" />
    <TextInput source="middle_name" />
    <TextInput source="position" />
    <ReferenceInput source="primary_company_id" reference="companies"><AutocompleteInput optionText="display_name" /></ReferenceInput>
    <ArrayInput source="emails">
      <SimpleFormIterator inline>
        <TextInput source="value" label="resources.contacts.fields.email" validate={looksLikeEmail} />
        <SelectInput source="type" choices={choices('email_type', EMAIL_TYPES)} defaultValue="work" label="accord.common.type" helperText={false} />
      </SimpleFormIterator>
    </ArrayInput>
    <ArrayInput source="phones">
      <SimpleFormIterator inline>
        <TextInput source="original" label="resources.contacts.fields.phone" helperText={false} />
        <SelectInput source="type" choices={choices('phone_type', PHONE_TYPES)} defaultValue="mobile" label="accord.common.type" helperText={false} />
      </SimpleFormIterator>
    </ArrayInput>
    <DateInput source="birthday" />
    <TextInput source="source" />
    <BooleanInput source="marketing_consent.given" label="resources.contacts.fields.marketing_consent" />
    <TextInput source="description" multiline fullWidth />
    <TagsInput />
    <OwnerInput />
    <CustomFieldInputs entity="contact" />
  </>
);

const ContactEdit = () => (
  <RecordEdit actions={<MergeButton />}>
    <LiveForm><ContactFields /></LiveForm>
  </RecordEdit>
);

const ContactCreate = () => (
  <Create redirect="edit">
    <LiveForm><ContactFields /></LiveForm>
  </Create>
);

export const contacts = { list: ContactList, edit: ContactEdit, create: ContactCreate, icon: PeopleIcon, recordRepresentation: 'display_name' };
