//! vCard 2.1, 3.0 and 4.0 (RFC 2426, RFC 6350) read into import rows, one per card, and
//! contacts written as vCard 4.0. Folded lines, quoted-printable values in any charset,
//! escaped text, grouped properties (`item1.EMAIL`) and 2.1's bare type parameters are read;
//! what has no field of its own (nickname, department, role, URLs, a birthday without a
//! year) goes to the description, so nothing a card says is lost.
use super::source::Row;

/// The import targets of the columns of a card's row.
pub const COLUMNS: [&str; 27] = [
    "full_name", "last_name", "first_name", "middle_name", "position", "company", "email", "email.work", "email.personal", "phone", "phone.mobile", "phone.work", "phone.home", "phone.fax",
    "address.street", "address.city", "address.region", "address.postal_code", "address.country", "address.work.street", "address.work.city", "address.work.region",
    "address.work.postal_code", "address.work.country", "birthday", "description", "tags",
];

fn col(name: &str) -> usize {
    COLUMNS.iter().position(|c| *c == name).unwrap_or(0)
}

pub fn looks_like_vcard(text: &str) -> bool {
    text.trim_start_matches('\u{feff}').trim_start().get(..11).is_some_and(|s| s.eq_ignore_ascii_case("BEGIN:VCARD"))
}

struct Property {
    name: String,
    types: Vec<String>,
    value: String,
}

/// Physical lines joined into logical ones, each with the number of its first line.
fn unfold(text: &str) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = Vec::new();
    let mut qp_continues = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match out.last_mut() {
            Some((_, last)) if qp_continues => {
                last.pop();
                last.push_str(line);
            }
            Some((_, last)) if line.starts_with([' ', '\t']) => last.push_str(&line[1..]),
            _ => out.push((i as u64 + 1, line.to_owned())),
        }
        // A quoted-printable value ending in "=" goes on in the next line (a soft break).
        qp_continues = out.last().is_some_and(|(_, l)| l.to_ascii_uppercase().contains("QUOTED-PRINTABLE") && l.ends_with('='));
    }
    out
}

fn decode_qp(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && let Some(byte) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn parse_line(line: &str) -> Option<Property> {
    let mut in_quotes = false;
    let colon = line.char_indices().find(|(_, c)| {
        if *c == '"' {
            in_quotes = !in_quotes;
        }
        *c == ':' && !in_quotes
    })?.0;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.rsplit('.').next()?.to_ascii_uppercase();
    let (mut types, mut encoding, mut charset) = (Vec::new(), String::new(), String::from("utf-8"));
    for p in parts {
        let (k, v) = p.split_once('=').unwrap_or(("TYPE", p));
        match k.to_ascii_uppercase().as_str() {
            "TYPE" => types.extend(v.trim_matches('"').split(',').map(|t| t.trim().to_ascii_lowercase())),
            "ENCODING" => encoding = v.to_ascii_uppercase(),
            "CHARSET" => charset = v.to_owned(),
            _ => {}
        }
    }
    let value = if encoding == "QUOTED-PRINTABLE" {
        let bytes = decode_qp(value);
        let enc = encoding_rs::Encoding::for_label(charset.as_bytes()).unwrap_or(encoding_rs::UTF_8);
        enc.decode(&bytes).0.into_owned()
    } else {
        value.to_owned()
    };
    Some(Property { name, types, value })
}

/// The components of a structured value, split at unescaped `;`, each unescaped.
fn components(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => cur.push('\n'),
                Some(other) => cur.push(other),
                None => {}
            },
            ';' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_owned()).collect()
}

fn text(v: &str) -> String {
    components(v).join(";")
}

/// A birthday as YYYY-MM-DD, when it has a year.
fn birthday(v: &str) -> Option<String> {
    let d: String = v.split('T').next().unwrap_or(v).chars().filter(char::is_ascii_digit).collect();
    (d.len() == 8 && !v.starts_with("--")).then(|| format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..8]))
}

/// A `tel:` URI (`tel:+1-418-656-9254;ext=102`) as a dialable number with its extension.
fn phone(v: &str) -> String {
    let v = v.trim().strip_prefix("tel:").unwrap_or(v.trim());
    match v.split_once(";ext=") {
        Some((n, ext)) => format!("{n} ext. {ext}"),
        None => v.split(';').next().unwrap_or(v).to_owned(),
    }
}

/// The cards of a file as rows of [`COLUMNS`].
pub fn rows(file: &str) -> Vec<Row> {
    let mut out = Vec::new();
    let mut card: Option<(u64, Vec<Vec<String>>, Vec<String>)> = None;
    let mut depth = 0;
    for (line_no, line) in unfold(file.trim_start_matches('\u{feff}')) {
        let Some(p) = parse_line(&line) else { continue };
        if p.name == "BEGIN" && p.value.eq_ignore_ascii_case("VCARD") {
            depth += 1;
            if depth == 1 {
                card = Some((line_no, vec![Vec::new(); COLUMNS.len()], Vec::new()));
            }
            continue;
        }
        if p.name == "END" && p.value.eq_ignore_ascii_case("VCARD") {
            depth -= 1;
            if depth == 0
                && let Some((line, cells, notes)) = card.take()
            {
                let mut cells: Vec<String> = cells.into_iter().map(|c| c.join("\n")).collect();
                // 2.1 cards may have no name at all; the organization or e-mail stands for it,
                // as address books show such cards.
                if ["full_name", "last_name", "first_name"].iter().all(|c| cells[col(c)].is_empty()) {
                    let stand_in = ["company", "email", "email.work", "email.personal"].iter().map(|c| cells[col(c)].lines().next().unwrap_or_default().to_owned()).find(|v| !v.is_empty());
                    cells[col("full_name")] = stand_in.unwrap_or_default();
                }
                let note = cells[col("description")].clone();
                cells[col("description")] = std::iter::once(note).chain(notes).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("\n");
                out.push(Row { line, cells });
            }
            continue;
        }
        let Some((_, cells, notes)) = card.as_mut().filter(|_| depth == 1) else { continue };
        let taken = |prefix: &str| [".street", ".city", ".region", ".postal_code", ".country"].iter().any(|part| !cells[col(&format!("{prefix}{part}"))].is_empty());
        // A work address goes to the work columns, any other to the usual ones; a second of
        // a kind is kept in the description.
        let address_slot = if p.types.iter().any(|x| x == "work") { "address.work" } else { "address" };
        let address_free = !taken(address_slot);
        let has_birthday = !cells[col("birthday")].is_empty();
        // Lists (e-mails, phones, tags, notes) take every value; a second name, title or
        // company is kept in the description.
        let mut put = |c: &str, v: String| {
            let list = c.starts_with("email") || c.starts_with("phone") || c == "tags" || c == "description";
            if v.trim().is_empty() {
            } else if list || cells[col(c)].is_empty() {
                cells[col(c)].push(v);
            } else {
                notes.push(format!("{c}: {v}"));
            }
        };
        let has = |t: &str| p.types.iter().any(|x| x == t);
        match p.name.as_str() {
            "FN" => put("full_name", text(&p.value)),
            "N" => {
                let n = components(&p.value);
                put("last_name", n.first().cloned().unwrap_or_default());
                put("first_name", n.get(1).cloned().unwrap_or_default());
                put("middle_name", n.get(2).cloned().unwrap_or_default());
            }
            "TITLE" => put("position", text(&p.value)),
            "ORG" => {
                let o = components(&p.value);
                put("company", o.first().cloned().unwrap_or_default());
                for unit in o.iter().skip(1).filter(|u| !u.is_empty()) {
                    put("description", format!("Department: {unit}"));
                }
            }
            "EMAIL" if has("work") => put("email.work", text(&p.value)),
            "EMAIL" if has("home") => put("email.personal", text(&p.value)),
            "EMAIL" => put("email", text(&p.value)),
            "TEL" if has("fax") => put("phone.fax", phone(&p.value)),
            "TEL" if has("cell") => put("phone.mobile", phone(&p.value)),
            "TEL" if has("work") => put("phone.work", phone(&p.value)),
            "TEL" if has("home") => put("phone.home", phone(&p.value)),
            "TEL" => put("phone", phone(&p.value)),
            "ADR" if address_free => {
                let a = components(&p.value);
                let street = [a.first(), a.get(1), a.get(2)].into_iter().flatten().filter(|s| !s.is_empty()).map(|s| s.replace('\n', ", ")).collect::<Vec<_>>().join(", ");
                put(&format!("{address_slot}.street"), street);
                put(&format!("{address_slot}.city"), a.get(3).cloned().unwrap_or_default());
                put(&format!("{address_slot}.region"), a.get(4).cloned().unwrap_or_default());
                put(&format!("{address_slot}.postal_code"), a.get(5).cloned().unwrap_or_default());
                put(&format!("{address_slot}.country"), a.get(6).cloned().unwrap_or_default());
            }
            "ADR" => notes.push(format!("Address: {}", components(&p.value).into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", "))),
            "BDAY" => match birthday(&p.value) {
                Some(d) if !has_birthday => put("birthday", d),
                _ => notes.push(format!("Birthday: {}", p.value)),
            },
            "NOTE" => put("description", text(&p.value)),
            "CATEGORIES" => put("tags", text(&p.value).replace(',', ";")),
            "NICKNAME" => notes.push(format!("Nickname: {}", text(&p.value))),
            "ROLE" => notes.push(format!("Role: {}", text(&p.value))),
            "URL" => notes.push(format!("URL: {}", text(&p.value))),
            _ => {}
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;").replace('\r', "").replace('\n', "\\n")
}

/// Folds a content line at 75 octets, never inside a character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// A contact as a vCard 4.0 (the API's contact fields; `company` is the primary company's name).
pub fn write(contact: &serde_json::Map<String, serde_json::Value>, company: Option<&str>) -> String {
    use serde_json::Value;
    let s = |k: &str| contact.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut lines = vec!["BEGIN:VCARD".to_owned(), "VERSION:4.0".to_owned()];
    let full = [s("first_name"), s("middle_name"), s("last_name")].into_iter().filter(|x| !x.is_empty()).collect::<Vec<_>>().join(" ");
    lines.push(format!("FN:{}", escape(&full)));
    lines.push(format!("N:{};{};{};;", escape(s("last_name")), escape(s("first_name")), escape(s("middle_name"))));
    if let Some(c) = company.filter(|c| !c.is_empty()) {
        lines.push(format!("ORG:{}", escape(c)));
    }
    if !s("position").is_empty() {
        lines.push(format!("TITLE:{}", escape(s("position"))));
    }
    for e in contact.get("emails").and_then(Value::as_array).into_iter().flatten() {
        let kind = match e["type"].as_str() {
            Some("personal") => ";TYPE=home",
            Some("work") => ";TYPE=work",
            _ => "",
        };
        lines.push(format!("EMAIL{kind}:{}", escape(e["value"].as_str().unwrap_or_default())));
    }
    for p in contact.get("phones").and_then(Value::as_array).into_iter().flatten() {
        let kind = match p["type"].as_str() {
            Some("mobile") => "cell",
            Some("work") => "work",
            Some("home") => "home",
            Some("fax") => "fax",
            _ => "voice",
        };
        let number = p["e164"].as_str().map(|n| match p["extension"].as_str() {
            Some(ext) => format!("tel:{n};ext={ext}"),
            None => format!("tel:{n}"),
        });
        match number {
            Some(uri) => lines.push(format!("TEL;VALUE=uri;TYPE={kind}:{uri}")),
            None => lines.push(format!("TEL;TYPE={kind}:{}", escape(p["original"].as_str().unwrap_or_default()))),
        }
    }
    for a in contact.get("addresses").and_then(Value::as_array).into_iter().flatten() {
        let part = |k: &str| escape(a[k].as_str().unwrap_or_default());
        let street = if a["street"].is_string() { part("street") } else { part("text") };
        lines.push(format!("ADR;TYPE={}:;;{street};{};{};{};{}", if a["type"] == "home" { "home" } else { "work" }, part("city"), part("region"), part("postal_code"), part("country")));
    }
    if !s("birthday").is_empty() {
        lines.push(format!("BDAY:{}", s("birthday").replace('-', "")));
    }
    if !s("description").is_empty() {
        lines.push(format!("NOTE:{}", escape(s("description"))));
    }
    let tags: Vec<String> = contact.get("tags").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(escape).collect();
    if !tags.is_empty() {
        lines.push(format!("CATEGORIES:{}", tags.join(",")));
    }
    lines.push("END:VCARD".to_owned());
    let mut out = String::new();
    for l in lines {
        fold(&l, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell<'a>(r: &'a Row, c: &str) -> &'a str {
        &r.cells[col(c)]
    }

    #[test]
    fn versions_and_encodings() {
        let v21 = "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=98=D0=B2=D0=B0=D0=BD=D0=BE=D0=B2;=D0=98=D0=B2=D0=B0=D0=BD\r\nTEL;CELL;VOICE:+7 916 123-45-67\r\nNOTE;ENCODING=QUOTED-PRINTABLE:first=0D=0Asec=\r\nond\r\nEND:VCARD\r\n";
        let r = rows(v21);
        assert_eq!(r.len(), 1);
        assert_eq!((cell(&r[0], "last_name"), cell(&r[0], "first_name")), ("Иванов", "Иван"));
        assert_eq!(cell(&r[0], "phone.mobile"), "+7 916 123-45-67");
        assert_eq!(cell(&r[0], "description"), "first\r\nsecond");
        let v4 = "BEGIN:VCARD\nVERSION:4.0\nFN:Simon Perreault\nN:Perreault;Simon;;;ing. jr,M.Sc.\nBDAY:--0203\nORG;TYPE=work:Viagenie\nADR;TYPE=work:;Suite D2-630;2875 Laurier;\n Quebec;QC;G1V 2M2;Canada\nTEL;VALUE=uri;TYPE=\"work,voice\";PREF=1:tel:+1-418-656-9254;ext=102\nEMAIL;TYPE=work:simon.perreault@viagenie.ca\nEND:VCARD\n";
        let r = rows(v4);
        assert_eq!(cell(&r[0], "address.work.street"), "Suite D2-630, 2875 Laurier", "a work address goes to the work columns");
        assert_eq!(cell(&r[0], "address.work.city"), "Quebec");
        assert_eq!(cell(&r[0], "address.street"), "");
        let two = rows("BEGIN:VCARD\nVERSION:3.0\nFN:Two Homes\nADR;TYPE=HOME:;;1 Main St;Springfield;;11111;USA\nADR;TYPE=WORK:;;2 Work Ave;Shelbyville;;22222;USA\nADR;TYPE=HOME:;;3 Lake Rd;Ogdenville;;33333;USA\nEND:VCARD\n");
        assert_eq!((cell(&two[0], "address.street"), cell(&two[0], "address.work.street")), ("1 Main St", "2 Work Ave"));
        assert!(cell(&two[0], "description").contains("3 Lake Rd"), "a second home address is kept in the description");
        assert_eq!(cell(&r[0], "phone.work"), "+1-418-656-9254 ext. 102");
        assert_eq!(cell(&r[0], "email.work"), "simon.perreault@viagenie.ca");
        assert_eq!(cell(&r[0], "description"), "Birthday: --0203", "a birthday without a year is kept");
        assert_eq!(cell(&r[0], "company"), "Viagenie");
    }

    #[test]
    fn escapes_groups_and_round_trip() {
        let r = rows("BEGIN:VCARD\nVERSION:3.0\nN:Public;John;;;\nTITLE:Director\\, Research\nitem1.EMAIL;type=INTERNET;type=pref:john@x.com\nCATEGORIES:a,b\nEND:VCARD\n");
        assert_eq!(cell(&r[0], "position"), "Director, Research");
        assert_eq!(cell(&r[0], "email"), "john@x.com");
        assert_eq!(cell(&r[0], "tags"), "a;b");
        let contact = serde_json::json!({ "first_name": "Анна", "last_name": "Иванова; Петрова", "emails": [{ "type": "work", "value": "a@x.ru" }], "phones": [{ "type": "mobile", "original": "+7 916", "e164": "+79161234567", "extension": null }], "description": "две\nстроки, запятая", "tags": ["vip"] });
        let card = write(contact.as_object().unwrap(), Some("ООО «Ромашка»"));
        assert!(card.lines().all(|l| l.len() <= 77), "{card}");
        let back = rows(&card);
        assert_eq!(cell(&back[0], "last_name"), "Иванова; Петрова");
        assert_eq!(cell(&back[0], "description"), "две\nстроки, запятая");
        assert_eq!(cell(&back[0], "phone.mobile"), "+79161234567");
        assert_eq!(cell(&back[0], "company"), "ООО «Ромашка»");
    }

    /// Every card of the collected files is read, with a name or an e-mail.
    #[test]
    fn files_of_other_programs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/vcard");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            println!("SKIP: {} is absent", dir.display());
            return;
        };
        for e in entries.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "vcf")) {
            let bytes = std::fs::read(e.path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            let cards = text.to_ascii_uppercase().matches("BEGIN:VCARD").count();
            let r = rows(&text);
            assert!(!r.is_empty() && r.len() <= cards, "{}: {} of {cards}", e.path().display(), r.len());
            for row in &r {
                let named = ["full_name", "last_name", "first_name", "email", "email.work", "email.personal", "company"].iter().any(|c| !cell(row, c).is_empty());
                assert!(named, "{}: a card without name or e-mail at line {}", e.path().display(), row.line);
            }
        }
    }
}
