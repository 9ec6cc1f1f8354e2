//! A calendar feed as iCalendar (RFC 5545). Meetings and tasks are both events, since the
//! common calendar applications (Google, Outlook, Apple) show events and ignore to-dos; a
//! task is a 30-minute event at its due time, marked with the category "Task".
use accord_storage::calendar::Entry;
use icalendar::{Calendar, Component, Event, EventLike};

fn utc(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub fn render(owner: &str, entries: &[Entry]) -> String {
    let mut cal = Calendar::new();
    cal.name(&format!("Accord — {owner}"));
    for e in entries {
        let mut ev = Event::new();
        ev.uid(&format!("{}-{}@accord", e.entity, e.id))
            .summary(&e.title)
            .starts(utc(e.starts_at))
            .ends(utc(e.ends_at.unwrap_or(e.starts_at + 30 * 60_000)))
            .timestamp(utc(e.updated_at))
            .add_property("LAST-MODIFIED", utc(e.updated_at).format("%Y%m%dT%H%M%SZ").to_string());
        if let Some(d) = &e.description {
            ev.description(d);
        }
        if let Some(place) = &e.place {
            ev.location(place);
        }
        if e.entity == "task" {
            ev.add_property("CATEGORIES", "Task");
        }
        cal.push(ev.done());
    }
    cal.done().to_string()
}
