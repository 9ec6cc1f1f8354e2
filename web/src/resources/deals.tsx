import {
  ArrayInput, required, AutocompleteInput, useRecordContext, BooleanInput, Create, DateInput, FormDataConsumer, NumberField, NumberInput, ReferenceField,
  ReferenceInput, SelectField, SelectInput, SimpleFormIterator, TextField, TextInput, useGetList, useLocaleState, FunctionField, type RaRecord,
} from 'react-admin';
import { ZonedDateField } from './zoned';
import HandshakeIcon from '@mui/icons-material/Handshake';
import { OwnerField, OwnerInput, RecordEdit, RecordList, TagsField, TagsInput, choices, LiveForm } from './common';
import { VatInput } from './products';
import { CustomFieldInputs } from './CustomFieldInputs';
import { money } from '../format';

const STATUSES = choices('deal_status', ['open', 'won', 'lost']);
const ROLES = choices('contact_role', ['decision_maker', 'influencer', 'user', 'technical', 'financial', 'other']);

export interface Stage { id: number; name: string; names: { ru?: string; en?: string }; kind: 'open' | 'won' | 'lost'; probability: number }
export interface Pipeline { id: number; name: string; names: { ru?: string; en?: string }; version: number; stages: Stage[] }

/** A name in the interface's language, whatever language the server answered in. */
export const useNamed = () => {
  const [locale] = useLocaleState();
  return (n: { name: string; names?: { ru?: string; en?: string } }) => n.names?.[locale as 'ru' | 'en'] || n.name;
};

const StageField = () => {
  const named = useNamed();
  const { data } = useGetList<Pipeline>('pipelines', { pagination: { page: 1, perPage: 100 } }, { staleTime: 60_000 });
  return <FunctionField source="stage_id" render={(r: RaRecord) => {
    const stage = data?.flatMap((p) => p.stages).find((s) => s.id === r.stage_id);
    return stage ? named(stage) : r.stage_id;
  }} />;
};

const DealList = () => {
  const [locale] = useLocaleState();
  return (
    <RecordList filters={[
      <SelectInput key="status" source="status" choices={STATUSES} />,
      <ReferenceInput key="pipeline" source="pipeline_id" reference="pipelines"><SelectInput optionText="name" /></ReferenceInput>,
      <ReferenceInput key="company" source="company_id" reference="companies"><AutocompleteInput optionText="display_name" /></ReferenceInput>,
      <DateInput key="close_from" source="expected_close_date[gte]" label="resources.deals.fields.expected_close_date" />,
    ]} primaryText={(r) => r.title} secondaryText={(r) => money(r.amount, r.currency, locale)}>
      <TextField source="title" />
      <ReferenceField source="company_id" reference="companies" />
      <StageField />
      <SelectField source="status" choices={STATUSES} />
      <FunctionField source="amount" sortBy="amount" render={(r: RaRecord) => money(r.amount, r.currency, locale)} />
      <ZonedDateField source="expected_close_date" />
      <NumberField source="probability" />
      <TagsField />
      <OwnerField />
      <ZonedDateField source="updated_at" showTime />
    </RecordList>
  );
};

/** Stages of the chosen pipeline, and a lost reason when the stage is a lost one. */
const StageInputs = () => {
  const named = useNamed();
  const { data: pipelines } = useGetList<Pipeline>('pipelines', { pagination: { page: 1, perPage: 100 } }, { staleTime: 60_000 });
  const { data: reasons } = useGetList('lost_reasons', { pagination: { page: 1, perPage: 100 } }, { staleTime: 60_000 });
  return (
    <>
      <SelectInput source="pipeline_id" choices={(pipelines ?? []).map((p) => ({ id: p.id, name: named(p) }))} />
      <FormDataConsumer>{({ formData }) => {
        const pipeline = pipelines?.find((p) => p.id === formData.pipeline_id) ?? pipelines?.[0];
        const stage = pipeline?.stages.find((s) => s.id === formData.stage_id);
        return (
          <>
            <SelectInput source="stage_id" choices={(pipeline?.stages ?? []).map((s) => ({ id: s.id, name: named(s) }))} />
            {stage?.kind === 'lost' && (
              <>
                <SelectInput source="lost_reason_id" choices={(reasons ?? []).filter((r) => r.active).map((r) => ({ id: r.id, name: named(r as never) }))} />
                <TextInput source="lost_comment" multiline fullWidth />
              </>
            )}
          </>
        );
      }}</FormDataConsumer>
    </>
  );
};

const DealFields = () => (
  <>
    <TextInput source="title" fullWidth validate={required()} />
    <ReferenceInput source="company_id" reference="companies"><AutocompleteInput optionText="display_name" /></ReferenceInput>
    <ArrayInput source="contacts">
      <SimpleFormIterator inline>
        <ReferenceInput source="contact_id" reference="contacts"><AutocompleteInput optionText="display_name" helperText={false} /></ReferenceInput>
        <SelectInput source="role" choices={ROLES} helperText={false} />
      </SimpleFormIterator>
    </ArrayInput>
    <StageInputs />
    <PriceListInput />
    <ArrayInput source="items">
      <SimpleFormIterator inline>
        <ReferenceInput source="product_id" reference="products"><AutocompleteInput optionText="name" helperText={false} /></ReferenceInput>
        <TextInput source="name" helperText={false} />
        <NumberInput source="quantity" helperText={false} />
        <TextInput source="price" helperText={false} />
        <NumberInput source="discount_percent" helperText={false} />
        <VatInput />
      </SimpleFormIterator>
    </ArrayInput>
    <FormDataConsumer>{({ formData }) => (!formData.items?.length ? <TextInput source="amount" /> : null)}</FormDataConsumer>
    <TextInput source="currency" />
    <BooleanInput source="vat_included" />
    <DateInput source="expected_close_date" />
    <NumberInput source="probability" />
    <TextInput source="source" />
    <TextInput source="description" multiline fullWidth />
    <TagsInput />
    <OwnerInput />
    <CustomFieldInputs entity="deal" />
  </>
);

/** The price list the deal's lines take their prices from (active ones, and the deal's own). */
const PriceListInput = () => {
  const named = useNamed();
  const record = useRecordContext();
  const { data } = useGetList<{ id: number; name: string; names: { ru?: string; en?: string }; currency: string; active: boolean }>('price_lists', { pagination: { page: 1, perPage: 100 } }, { staleTime: 60_000 });
  const choices = (data ?? []).filter((l) => l.active || l.id === record?.price_list_id).map((l) => ({ id: l.id, name: `${named(l)} (${l.currency})` }));
  if (!choices.length) return null;
  return <SelectInput source="price_list_id" choices={choices} emptyText="accord.deals.no_price_list" />;
};

/** Derived amounts are shown, never sent back. */
const transform = (data: RaRecord) => {
  const { vat_amount: _v, win_probability: _w, status: _s, closed_at: _c, stage_changed_at: _sc, ...rest } = data;
  if (Array.isArray(rest.items) && rest.items.length) delete rest.amount;
  if (Array.isArray(rest.items)) rest.items = rest.items.map(({ total: _t, vat: _x, ...item }: Record<string, unknown>) => item);
  return rest;
};

const DealEdit = () => <RecordEdit transform={transform}><LiveForm><DealFields /></LiveForm></RecordEdit>;
const DealCreate = () => <Create redirect="edit" transform={transform}><LiveForm><DealFields /></LiveForm></Create>;

export const deals = { list: DealList, edit: DealEdit, create: DealCreate, icon: HandshakeIcon, recordRepresentation: 'title' };
