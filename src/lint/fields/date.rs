//! Date and Resent-Date (RFC 5322 §3.3 date-time, §4.3 obsolete forms):
//! syntax and calendar validity.

use super::{Finding, IntoFinding, finding};
use crate::grammar::lex::{Cursor, Mode, Parsed, Problem, show};

/// The value of a run of ASCII digits, saturating.
fn decimal(digits: &str) -> u64 {
    digits.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    })
}

/// Day names, indexed by weekday with Sunday 0.
const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The obsolete alphabetic zones (RFC 5322 §4.3) and their offsets.
const OBS_ZONES: [(&str, &str); 10] = [
    ("UT", "+0000"),
    ("GMT", "+0000"),
    ("EST", "-0500"),
    ("EDT", "-0400"),
    ("CST", "-0600"),
    ("CDT", "-0500"),
    ("MST", "-0700"),
    ("MDT", "-0600"),
    ("PST", "-0800"),
    ("PDT", "-0700"),
];

/// A number in a date and where it was written.
type Num = (usize, u64);

/// A year: where, its value (2- and 3-digit years expanded; saturating,
/// so that messages show huge years as 18446744073709551615), and its value
/// modulo 400, the Gregorian cycle, which decides leap years and weekdays.
#[derive(Clone, Copy)]
struct Year {
    at: usize,
    value: u64,
    cycle: u64,
}

impl Year {
    fn new(at: usize, value: u64, cycle: u64) -> Self {
        Year { at, value, cycle }
    }
}

/// A date-time as written, before its validity is checked.
struct DateTime {
    weekday: Option<(usize, usize)>,
    day: Num,
    month: usize,
    year: Year,
    hour: Num,
    minute: Num,
    second: Option<Num>,
    /// Where a numeric zone is, and its minutes; None for alphabetic zones.
    zone: Option<Num>,
}

struct DateParser<'a> {
    cur: Cursor<'a>,
    findings: Vec<Finding>,
    alpha_zone: bool,
}

/// RFC 5322 §3.3 date-time (Date:, Resent-Date:): syntax (day-of-week
/// optional and must match the date if present, day 1-2 digits, month
/// names in any case, 4-digit year, time hh:mm[:ss], zone +hhmm/-hhmm,
/// comments allowed between the parts) and validity (a real calendar date,
/// hour <= 23, minute <= 59, second <= 60, zone minutes <= 59, year >=
/// 1900). Rules "date-syntax" (the first problem only: parsing stops
/// there), "date-invalid", "date-obsolete" (2/3-digit years, alphabetic
/// zones, white space around ':', RFC 5322 §4.3).
pub fn check_date(value: &str) -> Vec<Finding> {
    date_findings(value).0
}

/// The findings of [`check_date`], sorted by offset, and whether the zone
/// was alphabetic.
pub(super) fn date_findings(value: &str) -> (Vec<Finding>, bool) {
    let mut parser = DateParser {
        cur: Cursor::new(value),
        findings: Vec::new(),
        alpha_zone: false,
    };
    match parser.date_time() {
        Ok(date) => validate_date(&date, &mut parser.findings),
        Err(problem) => parser.findings.push(problem.into_finding("date-syntax")),
    }
    parser.findings.sort_by_key(|f| f.offset);
    (parser.findings, parser.alpha_zone)
}

impl DateParser<'_> {
    fn obsolete(&mut self, at: usize, message: String) {
        self.findings.push(finding("date-obsolete", at, message));
    }

    fn date_time(&mut self) -> Parsed<DateTime> {
        self.cur.skip_cfws(Mode::Strict)?;
        let weekday = self.weekday()?;
        let day = self.number("the day of the month", 1, 2)?;
        self.gap("the month")?;
        let month = self.month()?;
        self.gap("the year")?;
        let year = self.year()?;
        self.gap("the time")?;
        let (hour, minute, second) = self.time()?;
        self.gap("the zone")?;
        let zone = self.zone()?;
        self.cur.skip_cfws(Mode::Strict)?;
        if !self.cur.at_end() {
            return Err(self.cur.expected("the end of the date-time after the zone"));
        }
        Ok(DateTime {
            weekday,
            day,
            month,
            year,
            hour,
            minute,
            second,
            zone,
        })
    }

    /// The white space (or comment) that must separate two parts.
    fn gap(&mut self, before: &str) -> Parsed<()> {
        if self.cur.skip_cfws(Mode::Strict)? || self.cur.at_end() {
            return Ok(());
        }
        Err(self.cur.expected(&format!("white space before {before}")))
    }

    /// An optional "Mon," and the CFWS after it.
    fn weekday(&mut self) -> Parsed<Option<(usize, usize)>> {
        let (at, name) = self.cur.take(|b| b.is_ascii_alphabetic());
        if name.is_empty() {
            return Ok(None);
        }
        let Some(index) = DAY_NAMES.iter().position(|d| d.eq_ignore_ascii_case(name)) else {
            let message = format!(
                "unknown day name {}; expected Mon, Tue, Wed, Thu, Fri, Sat or Sun",
                show(name)
            );
            return Err(Problem::new(at, message));
        };
        self.cur.skip_cfws(Mode::Strict)?;
        if !self.cur.eat(b',') {
            return Err(self.cur.expected("',' after the day name"));
        }
        self.cur.skip_cfws(Mode::Strict)?;
        Ok(Some((at, index)))
    }

    /// A number of `min` to `max` digits.
    fn number(&mut self, what: &str, min: usize, max: usize) -> Parsed<Num> {
        let (at, digits) = self.cur.take(|b| b.is_ascii_digit());
        let wanted = if min == max {
            format!("{min} digits")
        } else {
            format!("{min} to {max} digits")
        };
        if digits.is_empty() {
            return Err(self.cur.expected(&format!("{what} ({wanted})")));
        }
        if !(min..=max).contains(&digits.len()) {
            let message = format!("{what} {} must have {wanted}", show(digits));
            return Err(Problem::new(at, message));
        }
        Ok((at, decimal(digits)))
    }

    fn month(&mut self) -> Parsed<usize> {
        let (at, name) = self.cur.take(|b| b.is_ascii_alphabetic());
        if name.is_empty() {
            return Err(self.cur.expected("the month (Jan to Dec)"));
        }
        MONTH_NAMES
            .iter()
            .position(|m| m.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let message = format!(
                    "unknown month {}; expected Jan, Feb, Mar, Apr, May, Jun, Jul, Aug, Sep, \
                     Oct, Nov or Dec",
                    show(name)
                );
                Problem::new(at, message)
            })
    }

    /// A year of 4 or more digits; 2 or 3 digits are obsolete (RFC 5322
    /// §4.3: 00-49 are 2000-2049, other 2- and 3-digit years add 1900).
    fn year(&mut self) -> Parsed<Year> {
        let (at, digits) = self.cur.take(|b| b.is_ascii_digit());
        let value = decimal(digits);
        let cycle = digits
            .bytes()
            .fold(0u64, |n, b| (n * 10 + u64::from(b - b'0')) % 400);
        let full = match digits.len() {
            0 => return Err(self.cur.expected("the year (4 digits)")),
            1 => {
                let message = format!("year {} must have 4 digits", show(digits));
                return Err(Problem::new(at, message));
            }
            2 if value < 50 => value + 2000,
            2 | 3 => value + 1900,
            _ => return Ok(Year::new(at, value, cycle)),
        };
        let message = format!(
            "{}-digit year {} is obsolete (RFC 5322 §4.3); write {full}",
            digits.len(),
            show(digits)
        );
        self.obsolete(at, message);
        Ok(Year::new(at, full, full % 400))
    }

    /// hh ":" mm [":" ss].
    fn time(&mut self) -> Parsed<(Num, Num, Option<Num>)> {
        let hour = self.number("the hour", 2, 2)?;
        if !self.colon()? {
            return Err(self.cur.expected("':' after the hour"));
        }
        let minute = self.number("the minute", 2, 2)?;
        let second = match self.colon()? {
            true => Some(self.number("the second", 2, 2)?),
            false => None,
        };
        Ok((hour, minute, second))
    }

    /// A ':' of the time; CFWS around it is obsolete (RFC 5322 §4.3). The
    /// cursor does not move when there is no ':'.
    fn colon(&mut self) -> Parsed<bool> {
        let start = self.cur.pos;
        let before = self.cur.skip_cfws(Mode::Strict)?;
        if !self.cur.eat(b':') {
            self.cur.pos = start;
            return Ok(false);
        }
        let colon = self.cur.pos - 1;
        if self.cur.skip_cfws(Mode::Strict)? || before {
            let message = "white space or comment around ':' in the time is obsolete \
                           (RFC 5322 §4.3)";
            self.obsolete(colon, message.into());
        }
        Ok(true)
    }

    /// +hhmm or -hhmm (the minutes returned), or an obsolete alphabetic zone.
    fn zone(&mut self) -> Parsed<Option<Num>> {
        let at = self.cur.pos;
        match self.cur.peek() {
            Some(b'+' | b'-') => {
                self.cur.pos += 1;
                let (_, digits) = self.cur.take(|b| b.is_ascii_digit());
                if digits.len() != 4 {
                    let written = self.cur.text.get(at..self.cur.pos).unwrap_or_default();
                    let message = format!(
                        "zone {} must be '+' or '-' and 4 digits (hhmm)",
                        show(written)
                    );
                    return Err(Problem::new(at, message));
                }
                Ok(Some((at, decimal(digits.get(2..).unwrap_or_default()))))
            }
            Some(b) if b.is_ascii_alphabetic() => {
                let (_, name) = self.cur.take(|b| b.is_ascii_alphabetic());
                self.obsolete_zone(at, name)?;
                Ok(None)
            }
            _ => Err(self.cur.expected("a zone such as +0000 or -0500")),
        }
    }

    fn obsolete_zone(&mut self, at: usize, name: &str) -> Parsed<()> {
        let military = name.len() == 1 && !name.eq_ignore_ascii_case("j");
        let numeric = OBS_ZONES
            .iter()
            .find(|(zone, _)| zone.eq_ignore_ascii_case(name))
            .map(|&(_, numeric)| numeric)
            .or(military.then_some("-0000 (military zones carry no usable offset)"));
        let Some(numeric) = numeric else {
            let message = format!("unknown zone {}; expected +hhmm or -hhmm", show(name));
            return Err(Problem::new(at, message));
        };
        self.alpha_zone = true;
        let message = format!(
            "alphabetic zone {} is obsolete (RFC 5322 §4.3); write {numeric}",
            show(name)
        );
        self.obsolete(at, message);
        Ok(())
    }
}

/// Whether a year is a leap year, from its value modulo 400.
pub(super) fn is_leap(cycle: u64) -> bool {
    cycle.is_multiple_of(4) && (!cycle.is_multiple_of(100) || cycle == 0)
}

/// Days in a month (0 = January).
fn days_in_month(month: usize, cycle: u64) -> u64 {
    match month {
        1 if is_leap(cycle) => 29,
        1 => 28,
        3 | 5 | 8 | 10 => 30,
        _ => 31,
    }
}

/// The weekday (Sunday 0) of a valid date, by Sakamoto's method; the
/// Gregorian calendar repeats every 400 years, a whole number of weeks.
pub(super) fn weekday(day: u64, month: usize, cycle: u64) -> usize {
    const OFFSETS: [u64; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = cycle + 400 - u64::from(month < 2);
    let offset = OFFSETS.get(month).copied().unwrap_or(0);
    ((y + y / 4 - y / 100 + y / 400 + offset + day) % 7) as usize
}

/// The "date-invalid" findings of a parsed date-time.
fn validate_date(date: &DateTime, out: &mut Vec<Finding>) {
    let invalid = |at, message: String| finding("date-invalid", at, message);
    let year = date.year;
    if year.value < 1900 {
        let message = format!("year {} is before 1900 (RFC 5322 §3.3)", year.value);
        out.push(invalid(year.at, message));
    }
    let (day_at, day) = date.day;
    let month_name = MONTH_NAMES.get(date.month).copied().unwrap_or_default();
    let length = days_in_month(date.month, year.cycle);
    let day_exists = (1..=length).contains(&day);
    if !day_exists {
        let message = format!(
            "day {day} does not exist: {month_name} {} has {length} days",
            year.value
        );
        out.push(invalid(day_at, message));
    }
    let limits = [
        (Some(date.hour), 23, "hour"),
        (Some(date.minute), 59, "minute"),
        (date.second, 60, "second"),
        (date.zone, 59, "zone minutes"),
    ];
    for (number, max, what) in limits {
        if let Some((at, value)) = number.filter(|&(_, value)| value > max) {
            out.push(invalid(at, format!("{what} {value} is above {max}")));
        }
    }
    if let Some((at, written)) = date.weekday.filter(|_| day_exists) {
        let actual = weekday(day, date.month, year.cycle);
        if actual != written {
            let message = format!(
                "{day} {month_name} {} is a {}, not a {}",
                year.value,
                DAY_NAMES.get(actual).copied().unwrap_or_default(),
                DAY_NAMES.get(written).copied().unwrap_or_default()
            );
            out.push(invalid(at, message));
        }
    }
}
