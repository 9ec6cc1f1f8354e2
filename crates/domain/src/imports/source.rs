//! Turning an uploaded file into rows of text cells: XLSX (first sheet) or delimited text in
//! whatever encoding and delimiter the program that wrote it chose. Rows are produced one at
//! a time, so a file of any length is read in the memory of its decoded text.
use crate::error::Invalid;
use serde::Serialize;
use std::borrow::Cow;
use std::io::Cursor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Xlsx,
    Vcard,
}

/// How a file was read, as the import shows it to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detected {
    pub format: Format,
    /// `utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be` or `windows-1251`; none for XLSX.
    pub encoding: Option<&'static str>,
    /// The delimiter of a text file.
    pub delimiter: Option<char>,
}

/// A file's content ready to be read row by row.
pub struct Source {
    pub detected: Detected,
    body: Body,
}

enum Body {
    Text(String),
    /// Rows already read (a sheet, or cards), the header first.
    Rows(Vec<Row>),
}

/// One row of the file: its 1-based line (or sheet row) number and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: u64,
    pub cells: Vec<String>,
}

const XLSX_MAGIC: &[u8] = b"PK\x03\x04";

pub fn open(bytes: &[u8]) -> Result<Source, Invalid> {
    if bytes.starts_with(XLSX_MAGIC) {
        let rows = read_xlsx(bytes)?.into_iter().enumerate().map(|(i, cells)| Row { line: i as u64 + 1, cells }).collect();
        return Ok(Source { detected: Detected { format: Format::Xlsx, encoding: None, delimiter: None }, body: Body::Rows(rows) });
    }
    let (text, encoding) = decode(bytes)?;
    if super::vcard::looks_like_vcard(&text) {
        let header = Row { line: 0, cells: super::vcard::COLUMNS.iter().map(|c| (*c).to_owned()).collect() };
        let rows = std::iter::once(header).chain(super::vcard::rows(&text)).collect();
        return Ok(Source { detected: Detected { format: Format::Vcard, encoding: Some(encoding), delimiter: None }, body: Body::Rows(rows) });
    }
    let delimiter = detect_delimiter(&text);
    Ok(Source { detected: Detected { format: Format::Csv, encoding: Some(encoding), delimiter: Some(delimiter as char) }, body: Body::Text(text.into_owned()) })
}

/// Text in the encodings spreadsheet programs and CRMs write: a byte order mark decides; without
/// one, UTF-16 shows as NUL bytes beside ASCII, valid UTF-8 is UTF-8, and anything else is
/// taken for windows-1251 (what Russian Excel writes for "CSV").
pub fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, &'static str), Invalid> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest).map(|s| (Cow::Borrowed(s), "utf-8-bom")).map_err(|_| Invalid::new("bad_encoding", "the file starts as UTF-8 but is not valid UTF-8"));
    }
    let utf16 = if bytes.starts_with(b"\xFF\xFE") {
        Some((encoding_rs::UTF_16LE, "utf-16le"))
    } else if bytes.starts_with(b"\xFE\xFF") {
        Some((encoding_rs::UTF_16BE, "utf-16be"))
    } else {
        let head = &bytes[..bytes.len().min(4096)];
        let even_nuls = head.iter().step_by(2).filter(|b| **b == 0).count();
        let odd_nuls = head.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        if head.len() >= 4 && odd_nuls * 4 > head.len() && even_nuls == 0 {
            Some((encoding_rs::UTF_16LE, "utf-16le"))
        } else if head.len() >= 4 && even_nuls * 4 > head.len() && odd_nuls == 0 {
            Some((encoding_rs::UTF_16BE, "utf-16be"))
        } else {
            None
        }
    };
    if let Some((enc, name)) = utf16 {
        let (text, _, bad) = enc.decode(bytes);
        if bad {
            return Err(Invalid::new("bad_encoding", "the file looks like UTF-16 but is not valid UTF-16"));
        }
        return Ok((Cow::Owned(text.into_owned()), name));
    }
    if looks_binary(bytes) {
        return Err(Invalid::new("bad_file", "the file is not text: not a CSV, XLSX or vCard file"));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok((Cow::Borrowed(s), "utf-8")),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1251.decode(bytes);
            Ok((Cow::Owned(text.into_owned()), "windows-1251"))
        }
    }
}

/// A file uploaded by mistake (a PDF, an image, an archive) would otherwise decode as
/// windows-1251 gibberish, since every byte is a letter there. Text that spreadsheets and
/// CRMs write has no NUL bytes outside UTF-16 and hardly any other control characters.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(65_536)];
    let controls = head.iter().filter(|b| **b < 0x20 && !matches!(**b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A)).count();
    head.contains(&0) || controls * 100 > head.len()
}

const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The delimiter that splits the first lines into the same, largest number of cells. Quoted
/// text is skipped, so commas inside quoted cells do not count.
pub fn detect_delimiter(text: &str) -> u8 {
    let lines = logical_lines(text, 20);
    let mut best = (b',', 0usize, 0usize);
    for d in DELIMITERS {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, d)).collect();
        let Some(&first) = counts.first() else { continue };
        if first == 0 {
            continue;
        }
        let consistent = counts.iter().filter(|c| **c == first).count();
        if (consistent, first) > (best.1, best.2) {
            best = (d, consistent, first);
        }
    }
    best.0
}

/// The first `n` lines, joining lines that continue a quoted cell.
fn logical_lines(text: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    for line in text.lines() {
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
        in_quotes ^= line.matches('"').count() % 2 == 1;
        if !in_quotes {
            if !current.trim().is_empty() {
                out.push(std::mem::take(&mut current));
            } else {
                current.clear();
            }
            if out.len() == n {
                break;
            }
        }
    }
    out
}

fn count_outside_quotes(line: &str, d: u8) -> usize {
    let mut in_quotes = false;
    let mut n = 0;
    for b in line.bytes() {
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if b == d && !in_quotes {
            n += 1;
        }
    }
    n
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, Invalid> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| Invalid::new("bad_file", format!("not a readable XLSX file: {e}")))?;
    let range = match book.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(Invalid::new("bad_file", format!("the first sheet cannot be read: {e}"))),
        None => return Err(Invalid::new("empty_file", "the workbook has no sheet")),
    };
    let text = |c: &Data| -> String {
        match c {
            Data::Empty => String::new(),
            Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => f.to_string(),
            Data::Int(i) => i.to_string(),
            Data::Bool(b) => b.to_string(),
            Data::DateTime(d) => excel_serial_to_iso(d.as_f64()),
            Data::Error(e) => format!("#{e:?}"),
        }
    };
    Ok(range.rows().map(|r| r.iter().map(text).collect()).collect())
}

/// An Excel date serial (days since 1899-12-30, the fraction the time of day) as ISO text.
fn excel_serial_to_iso(serial: f64) -> String {
    let Some(epoch) = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|d| d.and_hms_opt(0, 0, 0)) else { return serial.to_string() };
    let ms = (serial * 86_400_000.0).round() as i64;
    let t = epoch + chrono::Duration::milliseconds(ms);
    if ms % 86_400_000 == 0 { t.format("%Y-%m-%d").to_string() } else { t.format("%Y-%m-%dT%H:%M:%S").to_string() }
}

impl Source {
    /// Every non-empty row, the header first.
    pub fn rows(&self) -> Box<dyn Iterator<Item = Result<Row, Invalid>> + Send + '_> {
        match &self.body {
            Body::Rows(rows) => Box::new(rows.iter().filter(|r| !is_blank(&r.cells)).map(|r| Ok(r.clone()))),
            Body::Text(text) => {
                let delimiter = self.detected.delimiter.map_or(b',', |c| c as u8);
                let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
                // Lines are counted from byte offsets: the reader's own count leaves out the
                // blank lines it skips, and the report must name the line an editor shows.
                let bytes = text.as_bytes();
                let mut counted = (0usize, 1u64);
                Box::new(
                    reader
                        .into_records()
                        .map(move |r| match r {
                            Ok(rec) => {
                                let mut at = rec.position().map_or(counted.0, |p| p.byte() as usize).min(bytes.len());
                                // The position may be before the blank lines skipped.
                                while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
                                    at += 1;
                                }
                                counted.1 += bytes[counted.0.min(at)..at].iter().filter(|b| **b == b'\n').count() as u64;
                                counted.0 = at;
                                Ok(Row { line: counted.1, cells: rec.iter().map(str::to_owned).collect() })
                            }
                            Err(e) => Err(Invalid::new("bad_row", format!("unreadable row: {e}"))),
                        })
                        .filter(|r| r.as_ref().map_or(true, |r| !is_blank(&r.cells))),
                )
            }
        }
    }
}

fn is_blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.trim().is_empty())
}

/// Rows that are not records: the totals and notices a report export puts under its table
/// (Salesforce writes "Grand Totals (N records)", "Confidential Information - Do Not
/// Distribute", a copyright line). They are short of the header's columns and hold one cell.
pub fn is_footer(row: &Row, header_len: usize) -> bool {
    header_len > 1 && row.cells.len() < header_len && row.cells.iter().filter(|c| !c.trim().is_empty()).count() <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(bytes: &[u8]) -> Vec<Vec<String>> {
        open(bytes).unwrap().rows().map(|r| r.unwrap().cells).collect()
    }

    #[test]
    fn encodings() {
        let text = "Имя;Фамилия\nИван;Петров\n";
        assert_eq!(open(text.as_bytes()).unwrap().detected.encoding, Some("utf-8"));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(open(&bom).unwrap().detected.encoding, Some("utf-8-bom"));
        assert_eq!(rows(&bom)[0][0], "Имя", "the mark is not part of the first header");
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(text);
        let s = open(&cp1251).unwrap();
        assert_eq!(s.detected.encoding, Some("windows-1251"));
        assert_eq!(rows(&cp1251)[1], vec!["Иван", "Петров"]);
        // Excel's "Unicode text": UTF-16 LE with a mark, tab-separated.
        let mut utf16 = b"\xFF\xFE".to_vec();
        for u in "Имя\tФамилия\r\nИван\tПетров\r\n".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let s = open(&utf16).unwrap();
        assert_eq!((s.detected.encoding, s.detected.delimiter), (Some("utf-16le"), Some('\t')));
        assert_eq!(rows(&utf16)[1], vec!["Иван", "Петров"]);
    }

    #[test]
    fn binary_files_are_refused() {
        let pdf = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<</Length 12/Filter/FlateDecode>>stream\nx\x9C\x03\x00\x00\x00\x00\x01\nendstream\n";
        assert_eq!(open(pdf).err().map(|e| e.code), Some("bad_file"));
        let noise: Vec<u8> = (0..2000_u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        assert_eq!(open(&noise).err().map(|e| e.code), Some("bad_file"));
        // A DOS end-of-file mark and a page break are text; so is a rare stray control character.
        let dos = "Имя;Фамилия\r\nИван;Петров\r\n\x0C\x1A";
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(dos);
        assert!(open(&cp1251).is_ok());
        let mut long = "Имя;Заметка\n".as_bytes().to_vec();
        long.extend("Иван;текст\n".repeat(50).into_bytes());
        long.extend(b"\x07");
        assert!(open(&long).is_ok());
    }

    #[test]
    fn delimiters_and_quoted_cells() {
        assert_eq!(detect_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(detect_delimiter("name;note\n\"Smith, John\";\"a;b\"\nx;y\n"), b';');
        assert_eq!(detect_delimiter("a\tb\n1\t2\n"), b'\t');
        let r = rows("name,note\n\"Smith, John\",\"line one\nline two\"\n\n".as_bytes());
        assert_eq!(r, vec![vec!["name", "note"], vec!["Smith, John", "line one\nline two"]]);
    }

    #[test]
    fn footers() {
        let s = open(b"Owner,Name,Amount\nA,B,1\n\n\"Grand Totals (1 records)\"\n\"Confidential Information - Do Not Distribute\"\n").unwrap();
        let all: Vec<Row> = s.rows().map(Result::unwrap).collect();
        let footers: Vec<&Row> = all.iter().skip(1).filter(|r| is_footer(r, 3)).collect();
        assert_eq!(footers.len(), 2);
        assert_eq!(footers[0].line, 4);
        assert!(!is_footer(&all[1], 3));
    }

    #[test]
    fn excel_dates() {
        assert_eq!(excel_serial_to_iso(45_627.0), "2024-12-01");
        assert_eq!(excel_serial_to_iso(45_627.5), "2024-12-01T12:00:00");
    }
}
