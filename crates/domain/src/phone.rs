//! Phone numbers: parsed to E.164 with the workspace's default region; the text a person
//! typed is kept beside it for display.
use crate::error::Invalid;
use phonenumber::{Mode, country};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedPhone {
    pub e164: String,
    pub extension: Option<String>,
}

/// Words Russian and English speakers put before an extension number.
const EXTENSION_MARKERS: [&str; 6] = ["доб", "вн", "ext", "extension", "x", "#"];

/// Splits "8 (423) 202-25-11, доб. 100" into the number and its extension.
fn split_extension(input: &str) -> (String, Option<String>) {
    let lower = input.to_lowercase();
    for marker in EXTENSION_MARKERS {
        if let Some(pos) = lower.rfind(marker) {
            let tail = &lower[pos + marker.len()..];
            let ext: String = tail.trim_start_matches(['.', ':', ' ']).chars().take_while(char::is_ascii_digit).collect();
            let rest_after = tail.trim_start_matches(['.', ':', ' ']).trim_start_matches(|c: char| c.is_ascii_digit());
            if !ext.is_empty() && rest_after.trim().is_empty() && pos > 0 {
                let head = &lower[..pos];
                // Byte offsets agree: lower-casing keeps the length of these scripts.
                let number = input.get(..head.len()).unwrap_or(head).trim_end_matches([',', ' ', ';']);
                return (number.to_owned(), Some(ext));
            }
        }
    }
    (input.to_owned(), None)
}

/// Region codes accepted for a workspace: ISO 3166-1 alpha-2 (`RU`, `KZ`, `DE` …).
pub fn region(code: &str) -> Result<country::Id, Invalid> {
    code.to_ascii_uppercase().parse::<country::Id>().map_err(|_| Invalid::new("unknown_region", format!("unknown region {code}")))
}

/// Russian 8xx numbers (toll-free 800/804, premium 803/809, personal 808, per
/// libphonenumber's RU metadata). The `phonenumber` crate strips their leading 8 as if it were
/// the national prefix, even after +7, so these are recognized here.
fn russian_8xx(number_text: &str, region: country::Id) -> Option<String> {
    let plus = number_text.trim_start().starts_with('+');
    let digits: String = number_text.chars().filter(char::is_ascii_digit).collect();
    let national = match (plus, digits.len()) {
        (true, 11) => digits.strip_prefix('7')?,
        (false, 11) if matches!(region, country::Id::RU | country::Id::KZ) => digits.strip_prefix(['7', '8'])?,
        (false, 10) if matches!(region, country::Id::RU | country::Id::KZ) => digits.as_str(),
        _ => return None,
    };
    let b = national.as_bytes();
    (b[0] == b'8' && b[1] == b'0' && matches!(b[2], b'0' | b'3' | b'4' | b'8' | b'9')).then(|| format!("+7{national}"))
}

pub fn parse(input: &str, default_region: &str) -> Result<ParsedPhone, Invalid> {
    let region = region(default_region)?;
    // Full-width digits and non-breaking hyphens become plain ones.
    let folded: String = input.nfkc().map(|c| if matches!(c, '\u{2010}'..='\u{2015}' | '\u{2212}') { '-' } else { c }).collect();
    let (number_text, extension) = split_extension(folded.trim());
    if let Some(e164) = russian_8xx(&number_text, region) {
        return Ok(ParsedPhone { e164, extension });
    }
    if number_text.chars().filter(char::is_ascii_digit).count() < 3 {
        return Err(Invalid::new("invalid_phone", "not a phone number"));
    }
    let number = phonenumber::parse(Some(region), number_text.trim())
        .map_err(|e| Invalid::new("invalid_phone", format!("not a phone number: {e}")))?;
    if !phonenumber::is_valid(&number) {
        return Err(Invalid::new("invalid_phone", "not a valid number for its region"));
    }
    let extension = extension.or_else(|| number.extension().map(|e| e.to_string()));
    Ok(ParsedPhone { e164: number.format().mode(Mode::E164).to_string(), extension })
}

/// Forms of a number a person may type into a search box: `+79161234567`, `79161234567`,
/// `89161234567`, `9161234567`, `1234567`. Indexed so that any of them finds the record.
pub fn search_forms(e164: &str) -> Vec<String> {
    let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
    let mut forms = vec![digits.clone()];
    if let Some(national) = digits.strip_prefix('7') {
        forms.push(format!("8{national}"));
        forms.push(national.to_owned());
    }
    if digits.len() > 7 {
        forms.push(digits[digits.len() - 7..].to_owned());
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn russian_mobile_in_national_form() {
        let p = parse("8 (916) 123-45-67", "RU").unwrap();
        assert_eq!(p.e164, "+79161234567");
        assert_eq!(p.extension, None);
    }

    #[test]
    fn extension_in_russian() {
        let p = parse("8 (423) 202-25-11, доб. 100", "RU").unwrap();
        assert_eq!(p.e164, "+74232022511");
        assert_eq!(p.extension.as_deref(), Some("100"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse("hello", "RU").is_err());
        assert!(parse("12", "RU").is_err());
        assert!(parse("+7 000", "RU").is_err());
    }

    #[test]
    fn shared_vectors() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata/phone-ru/phone-ru-vectors.json");
        let Ok(text) = std::fs::read_to_string(path) else {
            println!("SKIP: {path} is absent; phone vectors not checked");
            return;
        };
        let v: Value = serde_json::from_str(&text).unwrap();
        let mut checked = 0;
        for section in ["libphonenumber", "libphonenumber_unit_tests"] {
            for case in v[section].as_array().unwrap() {
                let input = case["input"].as_str().unwrap();
                let region = case["default_region"].as_str().unwrap_or("RU");
                let expected_valid = case.get("is_valid").and_then(Value::as_bool).unwrap_or(true);
                match (parse(input, region), case["e164"].as_str()) {
                    (Ok(p), Some(e164)) if expected_valid => {
                        assert_eq!(p.e164, e164, "{input}");
                        if let Some(ext) = case["extension"].as_str() {
                            assert_eq!(p.extension.as_deref(), Some(ext), "{input}");
                        }
                    }
                    (Err(e), Some(_)) if expected_valid => panic!("{input} should parse: {e:?}"),
                    (Ok(p), _) if !expected_valid => panic!("{input} is not a valid number, got {p:?}"),
                    _ => {}
                }
                checked += 1;
            }
        }
        assert!(checked > 10);
    }
}
