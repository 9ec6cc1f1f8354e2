//! Russian business identifiers with their check digits: INN, KPP, OGRN, OGRNIP, BIK,
//! settlement and correspondent bank accounts. All are strings: several start with 0.
use crate::error::Invalid;

fn digits(value: &str, len: usize, what: &str) -> Result<Vec<u32>, Invalid> {
    let ds: Vec<u32> = value.chars().filter_map(|c| c.to_digit(10)).collect();
    if ds.len() != value.chars().count() || !value.is_ascii() {
        return Err(Invalid::new("not_digits", format!("{what} must contain digits only")));
    }
    if ds.len() != len {
        return Err(Invalid::new("wrong_length", format!("{what} must have {len} digits")));
    }
    Ok(ds)
}

fn weighted(ds: &[u32], weights: &[u32]) -> u32 {
    ds.iter().zip(weights).map(|(d, w)| d * w).sum::<u32>() % 11 % 10
}

fn bad_checksum(what: &str) -> Invalid {
    Invalid::new("checksum", format!("{what} check digit does not match"))
}

const INN10_WEIGHTS: [u32; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];

/// Completes nine digits into a valid legal-entity INN (used to make demo data).
pub fn inn10_complete(first_nine: &[u32; 9]) -> String {
    let check = weighted(first_nine, &INN10_WEIGHTS);
    first_nine.iter().chain(std::iter::once(&check)).map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect()
}

/// INN of a legal entity (10 digits).
pub fn inn10(value: &str) -> Result<(), Invalid> {
    let d = digits(value, 10, "INN of a legal entity")?;
    if weighted(&d, &INN10_WEIGHTS) != d[9] {
        return Err(bad_checksum("INN"));
    }
    Ok(())
}

/// INN of an individual or sole proprietor (12 digits).
pub fn inn12(value: &str) -> Result<(), Invalid> {
    let d = digits(value, 12, "INN of a sole proprietor")?;
    let c11 = weighted(&d, &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]);
    let c12 = weighted(&d, &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]);
    if c11 != d[10] || c12 != d[11] {
        return Err(bad_checksum("INN"));
    }
    Ok(())
}

/// Either INN form, chosen by length.
pub fn inn(value: &str) -> Result<(), Invalid> {
    match value.len() {
        12 => inn12(value),
        _ => inn10(value),
    }
}

/// KPP: 4 digits, 2 digits or uppercase Latin letters, 3 digits. It has no check digit.
pub fn kpp(value: &str) -> Result<(), Invalid> {
    let b = value.as_bytes();
    let ok = b.len() == 9
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4..6].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && b[6..].iter().all(u8::is_ascii_digit)
        // "111111111" and the like are placeholders people type, not KPPs.
        && !b.iter().all(|c| *c == b[0]);
    if ok { Ok(()) } else { Err(Invalid::new("format", "KPP must look like 773301001 (9 characters, letters only in positions 5-6)")) }
}

fn mod_check(d: &[u32], modulus: u64) -> u32 {
    let n = d[..d.len() - 1].iter().fold(0u64, |acc, x| acc * 10 + u64::from(*x));
    (n % modulus % 10) as u32
}

/// Completes the first twelve digits into a valid OGRN (used to make demo data).
pub fn ogrn_complete(first_twelve: u64) -> String {
    format!("{first_twelve:012}{}", first_twelve % 11 % 10)
}

/// OGRN of a legal entity (13 digits, first digit 1 or 5).
pub fn ogrn(value: &str) -> Result<(), Invalid> {
    let d = digits(value, 13, "OGRN")?;
    if d[0] != 1 && d[0] != 5 {
        return Err(Invalid::new("format", "OGRN must start with 1 or 5"));
    }
    if mod_check(&d, 11) != d[12] {
        return Err(bad_checksum("OGRN"));
    }
    Ok(())
}

/// OGRNIP of a sole proprietor (15 digits, first digit 3 or 4).
pub fn ogrnip(value: &str) -> Result<(), Invalid> {
    let d = digits(value, 15, "OGRNIP")?;
    if d[0] != 3 && d[0] != 4 {
        return Err(Invalid::new("format", "OGRNIP must start with 3 or 4"));
    }
    if mod_check(&d, 13) != d[14] {
        return Err(bad_checksum("OGRNIP"));
    }
    Ok(())
}

/// BIK: 9 digits starting with 0, 1 or 2 (04 is Russia).
pub fn bik(value: &str) -> Result<(), Invalid> {
    let d = digits(value, 9, "BIK")?;
    if d[0] > 2 {
        return Err(Invalid::new("format", "BIK must start with 0, 1 or 2"));
    }
    Ok(())
}

fn account_key(prefix: &str, account: &[u32]) -> bool {
    let weights = [7, 1, 3];
    let all = prefix.chars().filter_map(|c| c.to_digit(10)).chain(account.iter().copied());
    all.enumerate().map(|(i, d)| d * weights[i % 3]).sum::<u32>() % 10 == 0
}

/// Settlement (client) account, checked against the bank's BIK.
pub fn settlement_account(value: &str, bik_value: &str) -> Result<(), Invalid> {
    bik(bik_value).map_err(|_| Invalid::new("bik_required", "a valid BIK is needed to check the account"))?;
    let d = digits(value, 20, "Settlement account")?;
    let prefix = if &bik_value[6..8] == "00" { format!("0{}", &bik_value[4..6]) } else { bik_value[6..9].to_owned() };
    if !account_key(&prefix, &d) {
        return Err(bad_checksum("Settlement account"));
    }
    Ok(())
}

/// Correspondent account (starts with 301), checked against the bank's BIK.
pub fn correspondent_account(value: &str, bik_value: &str) -> Result<(), Invalid> {
    bik(bik_value).map_err(|_| Invalid::new("bik_required", "a valid BIK is needed to check the account"))?;
    let d = digits(value, 20, "Correspondent account")?;
    if !value.starts_with("301") {
        return Err(Invalid::new("format", "Correspondent account must start with 301"));
    }
    if !account_key(&format!("0{}", &bik_value[4..6]), &d) {
        return Err(bad_checksum("Correspondent account"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Option<Value> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata/ru-identifiers/ru-identifiers-vectors.json");
        match std::fs::read_to_string(path) {
            Ok(s) => serde_json::from_str(&s).ok(),
            Err(_) => {
                println!("SKIP: {path} is absent; Russian identifier vectors not checked");
                None
            }
        }
    }

    fn run(kind: &str, check: impl Fn(&Value) -> Result<(), Invalid>) {
        let Some(v) = vectors() else { return };
        let set = &v[kind];
        let valid = set["valid"].as_array().expect("valid list");
        let invalid = set["invalid"].as_array().expect("invalid list");
        assert!(!valid.is_empty() && !invalid.is_empty());
        for case in valid {
            assert!(check(case).is_ok(), "{kind}: {case} should be valid: {:?}", check(case));
        }
        for case in invalid {
            assert!(check(case).is_err(), "{kind}: {case} should be invalid");
        }
    }

    fn val(case: &Value) -> &str {
        case["value"].as_str().unwrap_or_default()
    }

    #[test]
    fn completed_inn_is_valid() {
        let inn = inn10_complete(&[7, 7, 2, 5, 0, 8, 8, 5, 2]);
        assert_eq!(inn, "7725088527");
        assert!(inn10(&inn).is_ok());
    }

    #[test]
    fn completed_ogrn_is_valid() {
        assert!(ogrn(&ogrn_complete(102_781_240_086)).is_ok());
    }

    #[test]
    fn inn10_vectors() {
        run("inn10", |c| inn10(val(c)));
    }
    #[test]
    fn inn12_vectors() {
        run("inn12", |c| inn12(val(c)));
    }
    #[test]
    fn kpp_vectors() {
        run("kpp", |c| kpp(val(c)));
    }
    #[test]
    fn ogrn_vectors() {
        run("ogrn13", |c| ogrn(val(c)));
    }
    #[test]
    fn ogrnip_vectors() {
        run("ogrnip15", |c| ogrnip(val(c)));
    }
    #[test]
    fn bik_vectors() {
        run("bik", |c| bik(val(c)));
    }
    #[test]
    fn settlement_account_vectors() {
        run("settlement_account", |c| settlement_account(val(c), c["bik"].as_str().unwrap_or("044525225")));
    }
    #[test]
    fn correspondent_account_vectors() {
        run("correspondent_account", |c| correspondent_account(val(c), c["bik"].as_str().unwrap_or("044525225")));
    }
}
