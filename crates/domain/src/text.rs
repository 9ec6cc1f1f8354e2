//! Free text as stored: trimmed, NFC-normalized, without control characters, bounded.
use crate::error::Invalid;
use std::borrow::Cow;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

pub const SHORT_TEXT_MAX: usize = 500;
pub const LONG_TEXT_MAX: usize = 100_000;

/// The text in NFC. Most text already is, and the quick check says so without composing it
/// again (composing every name and e-mail was a twentieth of an import's time).
pub fn nfc(input: &str) -> Cow<'_, str> {
    if is_nfc_quick(input.chars()) == IsNormalized::Yes { Cow::Borrowed(input) } else { Cow::Owned(input.nfc().collect()) }
}

/// Normalizes a text and enforces a length limit in characters. Empty becomes `None`.
pub fn clean(input: &str, max_chars: usize) -> Result<Option<String>, Invalid> {
    let normalized = nfc(input);
    let trimmed = normalized.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(Invalid::new("control_characters", "must not contain control characters"));
    }
    let count = trimmed.chars().count();
    if count > max_chars {
        return Err(Invalid::new("too_long", format!("must be at most {max_chars} characters, got {count}")));
    }
    Ok(Some(trimmed.to_owned()))
}

/// A single line of at most `max_chars`.
pub fn line(input: &str, max_chars: usize) -> Result<Option<String>, Invalid> {
    let v = clean(input, max_chars)?;
    if v.as_deref().is_some_and(|s| s.contains(['\n', '\r'])) {
        return Err(Invalid::new("multiline", "must be a single line"));
    }
    Ok(v)
}

pub fn short(input: &str) -> Result<Option<String>, Invalid> {
    line(input, SHORT_TEXT_MAX)
}

/// A lower-cased, accent-preserving key used for case-insensitive search and sorting of
/// Cyrillic and Latin text alike (SQLite's own lower() folds ASCII only).
pub fn fold(input: &str) -> String {
    nfc(input).to_lowercase().replace('ё', "е")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_normalizes() {
        // "й" written as и + combining breve becomes one code point.
        assert_eq!(clean("  Ии\u{0306}  ", 10).unwrap().as_deref(), Some("Ий"));
        assert_eq!(clean("   ", 10).unwrap(), None);
    }

    #[test]
    fn rejects_controls_and_long_text() {
        assert_eq!(clean("a\u{0007}b", 10).unwrap_err().code, "control_characters");
        assert_eq!(clean("abcdef", 5).unwrap_err().code, "too_long");
        assert_eq!(short("a\nb").unwrap_err().code, "multiline");
    }

    #[test]
    fn composes_only_what_is_not_composed() {
        assert!(matches!(nfc("Иван Ёлкин"), Cow::Borrowed(_)));
        assert_eq!(nfc("Ии\u{0306}"), "Ий");
        assert_eq!(fold("И\u{0306}ОЖИК"), "йожик");
    }

    #[test]
    fn folds_cyrillic() {
        assert_eq!(fold("ЁЛКИН Иван"), "елкин иван");
    }
}
