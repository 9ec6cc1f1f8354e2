import { required, ArrayInput, Create, NumberInput, SelectField, SelectInput, SimpleFormIterator, TextField, TextInput, FunctionField, type RaRecord } from 'react-admin';
import { ZonedDateField } from './zoned';
import BusinessIcon from '@mui/icons-material/Business';
import { OwnerField, OwnerInput, RecordEdit, RecordList, TagsField, TagsInput, choices, LiveForm, looksLikeEmail } from './common';
import { MergeButton } from './MergeButton';
import { CustomFieldInputs } from './CustomFieldInputs';
import { firstValue } from './links';

const KINDS = choices('company_kind', ['legal_entity', 'sole_proprietor', 'other']);

const CompanyList = () => (
  <RecordList sort={{ field: 'name', order: 'ASC' }}
    filters={[<TextInput key="inn" source="inn" />, <SelectInput key="kind" source="kind" choices={KINDS} />, <TextInput key="industry" source="industry" />]}
    primaryText={(r) => r.display_name} secondaryText={(r) => [r.inn, r.industry].filter(Boolean).join(' · ')}>
    <TextField source="display_name" sortBy="name" />
    <TextField source="inn" />
    <SelectField source="kind" choices={KINDS} />
    <TextField source="industry" />
    <FunctionField source="phones" sortable={false} render={(r: RaRecord) => firstValue(r.phones)} />
    <TagsField />
    <OwnerField />
    <ZonedDateField source="updated_at" showTime />
  </RecordList>
);

const CompanyFields = () => (
  <>
    <TextInput source="name" validate={required()} />
    <TextInput source="legal_name" />
    <SelectInput source="kind" choices={KINDS} />
    <TextInput source="inn" />
    <TextInput source="kpp" />
    <TextInput source="ogrn" />
    <TextInput source="website" />
    <TextInput source="industry" />
    <NumberInput source="employees" />
    <TextInput source="annual_revenue" />
    <ArrayInput source="emails"><SimpleFormIterator inline><TextInput source="value" label="resources.contacts.fields.email" validate={looksLikeEmail} /></SimpleFormIterator></ArrayInput>
    <ArrayInput source="phones"><SimpleFormIterator inline><TextInput source="original" label="resources.contacts.fields.phone" helperText={false} /></SimpleFormIterator></ArrayInput>
    <TextInput source="description" multiline fullWidth />
    <TagsInput />
    <OwnerInput />
    <CustomFieldInputs entity="company" />
  </>
);

const CompanyEdit = () => <RecordEdit actions={<MergeButton />}><LiveForm><CompanyFields /></LiveForm></RecordEdit>;
const CompanyCreate = () => <Create redirect="edit"><LiveForm><CompanyFields /></LiveForm></Create>;

export const companies = { list: CompanyList, edit: CompanyEdit, create: CompanyCreate, icon: BusinessIcon, recordRepresentation: 'display_name' };
