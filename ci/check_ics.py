"""Parses the calendar feeds the API suite wrote with the `icalendar` package (a parser
nobody on the team wrote) and checks what a calendar application would read from them."""
import pathlib
import sys

import icalendar

files = sorted(pathlib.Path(sys.argv[1]).glob("*.ics"))
if not files:
    sys.exit("no feeds were written")
for f in files:
    cal = icalendar.Calendar.from_ical(f.read_bytes())
    events = list(cal.walk("VEVENT"))
    summaries = sorted(str(e["SUMMARY"]) for e in events)
    assert summaries == ["Встреча; важная, с запятой", "Отправить КП"], summaries
    for e in events:
        assert e["UID"] and e.decoded("DTSTART") < e.decoded("DTEND"), e
    meeting = next(e for e in events if str(e["SUMMARY"]).startswith("Встреча"))
    assert str(meeting["LOCATION"]) == "Тверская, 1", meeting["LOCATION"]
    print(f"{f.name}: {len(events)} events parsed by icalendar {icalendar.__version__}")
