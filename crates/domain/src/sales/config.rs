//! A workspace's sales settings as the rules read them: pipelines with ordered stages, lost
//! reasons, VAT rates and the base currency.
use crate::error::{Invalid, ValidationErrors};
use crate::text;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use utoipa::ToSchema;

/// Russian VAT rates (22 % from 2026, 20 % for earlier documents, 10 %, 0 %) and "without VAT".
pub const DEFAULT_VAT_RATES: [&str; 5] = ["22", "20", "10", "0", "none"];
pub const UNITS: [&str; 16] = ["pcs", "service", "hour", "day", "month", "year", "kg", "g", "t", "l", "m", "m2", "m3", "km", "pack", "set"];
pub const PRIORITIES: [&str; 3] = ["low", "normal", "high"];

/// A name in the languages of the interface; at least one is given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Names {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ru: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Names {
    /// The name for a locale, falling back to the other language.
    pub fn for_locale(&self, locale: &str) -> &str {
        let (first, second) = if locale.starts_with("en") { (&self.en, &self.ru) } else { (&self.ru, &self.en) };
        first.as_deref().or(second.as_deref()).unwrap_or_default()
    }

    /// Trimmed, one line, at most 100 characters each, and not both empty.
    pub fn clean(&self, field: &str, errors: &mut ValidationErrors) -> Names {
        let mut one = |lang: &str, v: &Option<String>| v.as_deref().and_then(|s| errors.check(&format!("{field}.{lang}"), text::line(s, 100)).flatten());
        let names = Names { ru: one("ru", &self.ru), en: one("en", &self.en) };
        if names.ru.is_none() && names.en.is_none() && !errors.0.iter().any(|e| e.field.starts_with(field)) {
            errors.add(format!("{field}.ru"), "required", "a name in Russian or English is required");
        }
        names
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    Open,
    Won,
    Lost,
}

impl StageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Open => "open",
            StageKind::Won => "won",
            StageKind::Lost => "lost",
        }
    }
    pub fn parse(s: &str) -> Option<StageKind> {
        [StageKind::Open, StageKind::Won, StageKind::Lost].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub id: i64,
    pub pipeline_id: i64,
    pub names: Names,
    pub kind: StageKind,
    /// Percent, 0–100.
    pub probability: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub id: i64,
    pub names: Names,
    /// In board order.
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LostReason {
    pub id: i64,
    pub names: Names,
    pub requires_comment: bool,
    pub active: bool,
}

/// A named set of product prices in one currency (retail, wholesale, dealer …) that a deal
/// may follow; its lines then take their prices from it.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceList {
    pub id: i64,
    pub names: Names,
    pub currency: String,
    pub active: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub base_currency: String,
    pub vat_rates: Vec<String>,
    /// In display order; the first is the default.
    pub pipelines: Vec<Pipeline>,
    pub lost_reasons: Vec<LostReason>,
    pub price_lists: Vec<PriceList>,
}

impl Config {
    /// For records that have nothing to do with sales.
    pub fn empty() -> &'static Config {
        static EMPTY: OnceLock<Config> = OnceLock::new();
        EMPTY.get_or_init(|| Config { base_currency: "RUB".into(), vat_rates: DEFAULT_VAT_RATES.iter().map(|s| (*s).to_owned()).collect(), ..Config::default() })
    }

    pub fn stage(&self, id: i64) -> Option<&Stage> {
        self.pipelines.iter().flat_map(|p| &p.stages).find(|s| s.id == id)
    }

    pub fn pipeline(&self, id: i64) -> Option<&Pipeline> {
        self.pipelines.iter().find(|p| p.id == id)
    }

    pub fn price_list(&self, id: i64) -> Option<&PriceList> {
        self.price_lists.iter().find(|p| p.id == id)
    }

    pub fn lost_reason(&self, id: i64) -> Option<&LostReason> {
        self.lost_reasons.iter().find(|r| r.id == id)
    }

    pub fn check_vat_rate(&self, rate: &str) -> Result<(), Invalid> {
        if self.vat_rates.iter().any(|r| r == rate) { Ok(()) } else { Err(Invalid::new("unknown_vat_rate", format!("must be one of the workspace's VAT rates: {}", self.vat_rates.join(", ")))) }
    }

    pub fn default_vat_rate(&self) -> &str {
        self.vat_rates.first().map_or("none", String::as_str)
    }
}
