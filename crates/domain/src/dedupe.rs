//! What makes two records look like the same person or company, beyond identical e-mails,
//! phones and INNs (which records share through their identifier keys): names that match
//! once case, word order, legal forms, punctuation and the alphabet are set aside, so that
//! «Пётр Иванов», "Ivanov Petr" and «ИВАНОВ ПЕТР» meet, as do «ООО "Ромашка"» and "Romashka LLC".
use crate::text::fold;

/// Cyrillic to Latin as names are usually spelled in passports and e-mail addresses.
const CYRILLIC: [(char, &str); 33] = [
    ('а', "a"), ('б', "b"), ('в', "v"), ('г', "g"), ('д', "d"), ('е', "e"), ('ё', "e"), ('ж', "zh"), ('з', "z"), ('и', "i"), ('й', "i"), ('к', "k"), ('л', "l"), ('м', "m"), ('н', "n"), ('о', "o"), ('п', "p"),
    ('р', "r"), ('с', "s"), ('т', "t"), ('у', "u"), ('ф', "f"), ('х', "kh"), ('ц', "ts"), ('ч', "ch"), ('ш', "sh"), ('щ', "shch"), ('ъ', ""), ('ы', "y"), ('ь', ""), ('э', "e"), ('ю', "yu"), ('я', "ya"),
];

/// Legal forms and their transliterations, left out of company names.
const LEGAL_FORMS: [&str; 22] = ["ooo", "oao", "zao", "pao", "ao", "ip", "nko", "ano", "fgup", "mup", "gup", "llc", "ltd", "inc", "corp", "co", "gmbh", "ag", "sa", "plc", "llp", "oy"];

/// One word in Latin letters.
fn latin(word: &str) -> String {
    let mut latin = String::new();
    for c in word.chars() {
        match CYRILLIC.iter().find(|(k, _)| *k == c) {
            Some((_, v)) => latin.push_str(v),
            None if c.is_alphanumeric() => latin.push(c),
            None => {}
        }
    }
    latin
}

/// A Latin word with the spellings transliteration varies in made equal (kh/h, ts/tz/c,
/// y/j/i, w/v, ph/f, doubled letters).
fn simplified(latin: &str) -> String {
    let s = latin.replace("kh", "h").replace("tz", "c").replace("ts", "c").replace("ph", "f").replace('w', "v").replace(['y', 'j'], "i").replace("ks", "x");
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

fn words(name: &str) -> Vec<String> {
    fold(name).split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '"' | '«' | '»' | '\'' | '(' | ')' | '-' | '&')).map(latin).filter(|w| !w.is_empty()).collect()
}

fn key(words: Vec<String>) -> Option<String> {
    let mut w: Vec<String> = words.iter().map(|w| simplified(w)).collect();
    if w.is_empty() {
        return None;
    }
    w.sort();
    Some(w.join(" "))
}

/// The key under which people's names meet: their words in any order.
pub fn person_key(name: &str) -> Option<String> {
    key(words(name))
}

/// The key under which company names meet: without legal forms, in any order.
pub fn company_key(name: &str) -> Option<String> {
    key(words(name).into_iter().filter(|w| !LEGAL_FORMS.contains(&w.as_str())).collect())
}

/// Why records are candidates, strongest first; a group's score is its strongest reason's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Names one typo apart once normalized (a letter missing, extra, wrong, or two swapped).
    SimilarName,
    SameName,
    SameDomain,
    SamePhone,
    SameEmail,
    SameInn,
}

impl Reason {
    pub fn score(self) -> u8 {
        match self {
            Reason::SameInn => 100,
            Reason::SameEmail => 95,
            Reason::SamePhone => 90,
            Reason::SameDomain => 75,
            Reason::SameName => 60,
            Reason::SimilarName => 45,
        }
    }

    pub fn of_key_kind(kind: &str) -> Option<Reason> {
        match kind {
            "inn" => Some(Reason::SameInn),
            "email" => Some(Reason::SameEmail),
            "phone" => Some(Reason::SamePhone),
            _ => None,
        }
    }
}

/// Shortest name key compared for typos: in shorter ones one letter is too much of the name.
const TYPO_MIN_CHARS: usize = 6;
/// A variant shared by more keys than this says nothing about any two of them.
const TYPO_BUCKET_MAX: usize = 50;

/// Pairs of different keys one typo apart, by the symmetric-delete method: two strings within
/// one edit of each other share a variant with at most one character removed, so only keys
/// in a shared bucket are compared, never every pair.
pub fn one_typo_apart(keys: &[(usize, String)]) -> Vec<(usize, usize)> {
    let mut buckets: std::collections::HashMap<String, Vec<usize>> = std::collections::HashMap::new();
    for (slot, (_, key)) in keys.iter().enumerate() {
        let chars: Vec<char> = key.chars().collect();
        if chars.len() < TYPO_MIN_CHARS {
            continue;
        }
        let mut variants: Vec<String> = (0..chars.len()).map(|skip| chars.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, c)| *c).collect()).collect();
        variants.push(key.clone());
        variants.sort();
        variants.dedup();
        for v in variants {
            buckets.entry(v).or_default().push(slot);
        }
    }
    let mut pairs = std::collections::BTreeSet::new();
    for members in buckets.values().filter(|m| m.len() > 1 && m.len() <= TYPO_BUCKET_MAX) {
        for (n, &a) in members.iter().enumerate() {
            for &b in &members[n + 1..] {
                let (ka, kb) = (&keys[a].1, &keys[b].1);
                if ka != kb && within_one_edit(ka, kb) {
                    pairs.insert((keys[a].0.min(keys[b].0), keys[a].0.max(keys[b].0)));
                }
            }
        }
    }
    pairs.into_iter().collect()
}

/// At most one insertion, deletion, substitution or swap of neighbours apart.
fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long.iter()).take_while(|(x, y)| x == y).count();
    if short.len() == long.len() {
        let rest = |from: usize| short[from..] == long[from..];
        prefix == short.len()
            || rest(prefix + 1)
            || (prefix + 1 < short.len() && short[prefix] == long[prefix + 1] && short[prefix + 1] == long[prefix] && rest(prefix + 2))
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

/// Groups of indexes linked by any shared key (a union–find over the pairs).
pub fn groups(n: usize, links: &[(usize, usize, Reason)]) -> Vec<(Vec<usize>, Vec<Reason>)> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(a, b, _) in links {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut by_root: std::collections::BTreeMap<usize, (Vec<usize>, Vec<Reason>)> = std::collections::BTreeMap::new();
    for i in 0..n {
        let r = root(&mut parent, i);
        by_root.entry(r).or_default().0.push(i);
    }
    for &(a, _, reason) in links {
        let r = root(&mut parent, a);
        if let Some((_, reasons)) = by_root.get_mut(&r)
            && !reasons.contains(&reason)
        {
            reasons.push(reason);
        }
    }
    let mut out: Vec<(Vec<usize>, Vec<Reason>)> = by_root.into_values().filter(|(m, _)| m.len() > 1).collect();
    for (_, reasons) in &mut out {
        reasons.sort_by(|a, b| b.cmp(a));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_one_typo_apart() {
        let keys: Vec<(usize, String)> = ["Иванов Пётр", "Иваноф Пётр", "Ivanov Petr", "Петров Иван", "Пертов Иван", "Ли Ан", "Ли Ан", "Смирнова Анна"]
            .iter()
            .enumerate()
            .filter_map(|(i, n)| person_key(n).map(|k| (i, k)))
            .collect();
        // "ivanov petr" and "ivanof petr" (a letter), "petrov ivan" and "pertov ivan" (two
        // swapped); identical keys are the exact finder's, short ones are left alone.
        assert_eq!(one_typo_apart(&keys), [(0, 1), (1, 2), (3, 4)]);
        assert!(within_one_edit("abcdef", "abcdef"));
        assert!(within_one_edit("abcdef", "abcdf"));
        assert!(within_one_edit("abcdef", "abcxef"));
        assert!(!within_one_edit("abcdef", "abxxef"));
        assert!(!within_one_edit("abcdef", "badcef"));
    }

    #[test]
    fn names_meet_across_alphabets_and_order() {
        assert_eq!(person_key("Пётр Иванов"), person_key("Ivanov Petr"));
        assert_eq!(person_key("ИВАНОВ  ПЁТР"), person_key("petr ivanov"));
        assert_eq!(person_key("Юлия Михайлова"), person_key("Yulia Mikhaylova"));
        assert_eq!(person_key("Алексей Цой"), person_key("Aleksei Tsoi"));
        assert_ne!(person_key("Пётр Иванов"), person_key("Пётр Петров"));
        assert_eq!(company_key("ООО «Ромашка»"), company_key("Romashka LLC"));
        assert_eq!(company_key("АО \"Газ-Сервис\""), company_key("Gaz Servis"));
        assert_eq!(company_key("ООО"), None);
    }

    #[test]
    fn groups_join_through_any_link() {
        let g = groups(5, &[(0, 1, Reason::SameName), (1, 3, Reason::SameEmail)]);
        assert_eq!(g, vec![(vec![0, 1, 3], vec![Reason::SameEmail, Reason::SameName])]);
    }
}
