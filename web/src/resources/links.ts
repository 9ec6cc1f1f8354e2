/** The field by which activities and tasks link to a record of each kind. */
export const LINK_KEY: Record<string, string> = { contacts: 'contact_id', companies: 'company_id', deals: 'deal_id', leads: 'lead_id' };

/** The first e-mail or phone of a record, for lists and cards. */
export const firstValue = (list: { value?: string; original?: string }[] | undefined) => list?.[0]?.value ?? list?.[0]?.original ?? '';
