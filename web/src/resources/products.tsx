import { required, BooleanField, BooleanInput, Create, SelectField, SelectInput, TextField, TextInput, NumberField, useGetOne } from 'react-admin';
import InventoryIcon from '@mui/icons-material/Inventory2';
import { OwnerInput, RecordEdit, RecordList, TagsInput, choices, LiveForm } from './common';
import { CustomFieldInputs } from './CustomFieldInputs';

const KINDS = choices('product_kind', ['good', 'service']);
export const UNITS = choices('unit', ['pcs', 'service', 'hour', 'day', 'month', 'year', 'kg', 'g', 't', 'l', 'm', 'm2', 'm3', 'km', 'pack', 'set']);

/** VAT rates are the workspace's; "none" is sent as null. */
export const VatInput = ({ source = 'vat_rate' }: { source?: string }) => {
  const { data } = useGetOne<{ id: string; vat_rates: (string | null)[] }>('workspace', { id: 'current' }, { staleTime: 60_000 });
  const rates = (data?.vat_rates ?? ['22', '20', '10', '0', null]).map((r) => ({ id: r ?? 'none', name: r === null ? '—' : `${r} %` }));
  return <SelectInput source={source} choices={rates} format={(v) => v ?? 'none'} parse={(v) => (v === 'none' ? null : v)} />;
};

const ProductList = () => (
  <RecordList sort={{ field: 'name', order: 'ASC' }} filters={[<SelectInput key="kind" source="kind" choices={KINDS} />, <BooleanInput key="active" source="active" />]}
    primaryText={(r) => r.name} secondaryText={(r) => `${r.sku ?? ''} ${r.price ?? ''} ${r.currency ?? ''}`}>
    <TextField source="name" />
    <TextField source="sku" />
    <SelectField source="kind" choices={KINDS} />
    <SelectField source="unit" choices={UNITS} />
    <NumberField source="price" />
    <TextField source="currency" />
    <TextField source="vat_rate" />
    <BooleanField source="active" />
  </RecordList>
);

const ProductFields = () => (
  <>
    <TextInput source="name" validate={required()} />
    <TextInput source="sku" />
    <SelectInput source="kind" choices={KINDS} defaultValue="good" />
    <SelectInput source="unit" choices={UNITS} defaultValue="pcs" />
    <TextInput source="price" />
    <TextInput source="currency" />
    <VatInput />
    <BooleanInput source="active" defaultValue />
    <TextInput source="description" multiline fullWidth />
    <TagsInput />
    <OwnerInput />
    <CustomFieldInputs entity="product" />
  </>
);

const ProductEdit = () => <RecordEdit aside={false}><LiveForm><ProductFields /></LiveForm></RecordEdit>;
const ProductCreate = () => <Create redirect="list"><LiveForm><ProductFields /></LiveForm></Create>;

export const products = { list: ProductList, edit: ProductEdit, create: ProductCreate, icon: InventoryIcon, recordRepresentation: 'name' };
