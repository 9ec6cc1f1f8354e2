import { BooleanInput, DateInput, NumberInput, SelectArrayInput, SelectInput, TextInput, useGetList, ReferenceInput, AutocompleteInput } from 'react-admin';
import { ZonedDateTimeInput } from './zoned';

interface CustomField { id: number; entity: string; key: string; label: string; field_type: string; required: boolean; options: string[] }

/** The workspace's custom fields of one kind of record, each with the input its type needs. */
export const CustomFieldInputs = ({ entity }: { entity: string }) => {
  const { data } = useGetList<CustomField>('custom_fields', { pagination: { page: 1, perPage: 500 }, sort: { field: 'position', order: 'ASC' } }, { staleTime: 60_000 });
  return (
    <>
      {(data ?? []).filter((f) => f.entity === entity).map((f) => {
        const props = { key: f.id, source: `custom_fields.${f.key}`, label: f.label };
        const options = f.options.map((o) => ({ id: o, name: o }));
        switch (f.field_type) {
          case 'long_text': return <TextInput {...props} multiline fullWidth />;
          case 'number': return <NumberInput {...props} />;
          case 'date': return <DateInput {...props} />;
          case 'date_time': return <ZonedDateTimeInput {...props} />;
          case 'boolean': return <BooleanInput {...props} />;
          case 'select': return <SelectInput {...props} choices={options} />;
          case 'multi_select': return <SelectArrayInput {...props} choices={options} />;
          case 'contact_ref': return <ReferenceInput {...props} reference="contacts"><AutocompleteInput label={f.label} optionText="display_name" /></ReferenceInput>;
          case 'company_ref': return <ReferenceInput {...props} reference="companies"><AutocompleteInput label={f.label} optionText="display_name" /></ReferenceInput>;
          default: return <TextInput {...props} />;
        }
      })}
    </>
  );
};
