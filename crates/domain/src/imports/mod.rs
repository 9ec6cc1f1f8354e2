//! Imports: reading other programs' files (`source`), matching their columns to Accord's
//! fields (`mapping`, with the presets of other CRMs' exports in `presets.json`), converting
//! cell values (`values`) and turning a row into a record's input (`row`); vCard files
//! become rows of their own fixed columns (`vcard`). Storage resolves
//! the references, matches existing records and writes.
pub mod mapping;
pub mod row;
pub mod source;
pub mod values;
pub mod vcard;
