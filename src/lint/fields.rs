//! Checks of single header field values, for `rfc822-lint`.
//!
//! Each `check_*` function takes one field's value: the text after the
//! colon, unfolded (the CRLF or LF of each fold removed, the white space
//! after it kept). Leading and trailing white space may be kept or trimmed:
//! every [`Finding::offset`] is a byte offset into the value exactly as
//! passed, so the caller maps it back through whatever it removed. CR and
//! LF left in a value count as white space here; bare line ends and raw
//! 8-bit bytes are the caller's to report.
//!
//! Every rule id, with its severity, RFC section and explanation, is in
//! [`FIELD_RULES`]. The checks read hostile mail: no input makes them
//! panic, each runs in time linear in the value, and nested comments are
//! counted, not recursed.

use std::collections::HashSet;

use crate::address::{self, Address};
use crate::decode::{is_known_charset, to_utf8};

/// One problem in a field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule id (kebab-case, one of [`FIELD_RULES`]).
    pub rule: &'static str,
    /// Byte offset in the value where the problem is (0 if it concerns the
    /// whole value).
    pub offset: usize,
    /// One line, specific: what is wrong and what was expected.
    pub message: String,
}

/// Every rule this module emits: id, severity ("error" or "warning"), RFC
/// section, and a paragraph for the man page.
pub const FIELD_RULES: &[(&str, &str, &str, &str)] = &[
    (
        "date-syntax",
        "error",
        "RFC 5322 §3.3",
        "A Date or Resent-Date value must be a date-time: an optional day name and comma, \
         the day of the month (1 or 2 digits), a month name, the year, hh:mm or hh:mm:ss, and \
         a zone +hhmm or -hhmm, separated by white space; comments may appear between the \
         parts. Readers that cannot parse the date sort and thread the message wrongly.",
    ),
    (
        "date-invalid",
        "error",
        "RFC 5322 §3.3",
        "A date-time that parses but cannot be true: a day the month does not have (31 Feb, \
         29 Feb in a common year), an hour above 23, a minute above 59, a second above 60, \
         zone minutes above 59, a year before 1900, or a day name that is not the weekday of \
         the date.",
    ),
    (
        "date-obsolete",
        "warning",
        "RFC 5322 §4.3",
        "A date-time in the obsolete syntax that RFC 5322 tells readers to accept but writers \
         not to generate: a 2- or 3-digit year, an alphabetic zone (UT, GMT, EST, ..., or a \
         military letter, which carries no usable offset), or white space around the ':' of \
         the time.",
    ),
    (
        "address-syntax",
        "error",
        "RFC 5322 §3.4, §3.6.2, §3.6.3; RFC 6532 §3.2",
        "An address field (From, Sender, Reply-To, To, Cc, Bcc, Resent-*) must be a list of \
         mailboxes and groups; From and Sender take mailboxes only (no groups), Sender exactly \
         one, and only Bcc may be empty. A non-ASCII local part or domain needs SMTPUTF8 \
         (RFC 6532); otherwise the domain must be written as A-labels.",
    ),
    (
        "msgid-syntax",
        "error",
        "RFC 5322 §3.6.4",
        "Message-ID holds exactly one msg-id, In-Reply-To and References one or more: \
         \"<\" id-left \"@\" id-right \">\", the left part a dot-atom-text, the right part a \
         dot-atom-text or a [literal]. Threading breaks when identifiers cannot be parsed.",
    ),
    (
        "msgid-obsolete",
        "warning",
        "RFC 5322 §4.5.4",
        "A msg-id in the obsolete syntax: a quoted string in the left part, white space or \
         comments inside the angle brackets, white space or quoted-pairs in a [literal], or \
         phrase words between the msg-ids of In-Reply-To or References.",
    ),
    (
        "encoded-word-length",
        "error",
        "RFC 2047 §2",
        "An encoded-word (=?charset?encoding?text?=) may be at most 75 characters long, \
         delimiters included; longer text must be split into several encoded-words separated \
         by white space.",
    ),
    (
        "encoded-word-placement",
        "warning",
        "RFC 2047 §5",
        "An encoded-word is only decoded where it stands as a whole word: separated from \
         adjacent text by white space (or by the parentheses of a comment), as a word of a \
         display name, or in a comment. Inside a quoted string or an addr-spec, or glued to \
         other text, conforming readers show it undecoded.",
    ),
    (
        "encoded-word-charset",
        "error",
        "RFC 2047 §2, §3",
        "The charset of an encoded-word is not one that readers know (a WHATWG label, \
         us-ascii, or unknown-8bit), so its text cannot be decoded. An RFC 2231 language \
         suffix (utf-8*en) is allowed.",
    ),
    (
        "encoded-word-encoding",
        "error",
        "RFC 2047 §4",
        "The encoding of an encoded-word must be B (base64) or Q (a quoted-printable \
         variant), in either case.",
    ),
    (
        "encoded-word-payload",
        "error",
        "RFC 2047 §4.1, §4.2, §5",
        "The encoded text of an encoded-word does not decode: B text with characters outside \
         base64 or a length that is not a multiple of 4; Q text with a malformed =XX or a \
         character not allowed where the word stands (in a display name only letters, digits \
         and !*+-/=_); or decoded bytes that are not valid in the declared charset.",
    ),
    (
        "encoded-word-syntax",
        "warning",
        "RFC 2047 §2",
        "Text that starts like an encoded-word (=?charset?) but lacks its encoding, its \
         encoded text, or the closing ?=; it will be shown as is, often by mistake (a space \
         inside the encoded text is the usual cause).",
    ),
    (
        "content-type-syntax",
        "error",
        "RFC 2045 §5.1; RFC 2231 §3, §4",
        "A Content-Type value must be type \"/\" subtype followed by \"; attribute=value\" \
         parameters, values being tokens or quoted strings (a value with special characters \
         such as = or / must be quoted); RFC 2231 names (name*, name*0, name*0*) and \
         charset'language'%XX values are accepted when well formed. Nothing else may follow \
         (a lone ';' at the end is the warning mime-trailing-semicolon).",
    ),
    (
        "mime-trailing-semicolon",
        "warning",
        "RFC 2045 §5.1; RFC 2183 §2",
        "A Content-Type or Content-Disposition value ends with a ';' that no parameter \
         follows. The grammar does not allow it, but it is common and every reader \
         ignores it; a strict parser may not.",
    ),
    (
        "boundary-syntax",
        "error",
        "RFC 2046 §5.1.1",
        "A multipart Content-Type needs a boundary parameter of 1 to 70 characters drawn from \
         letters, digits, space and '()+_,-./:=? and not ending in a space; without a valid \
         boundary the parts cannot be found.",
    ),
    (
        "charset-unknown",
        "warning",
        "RFC 2046 §4.1.2; RFC 2978",
        "The charset parameter of a Content-Type names a charset that readers do not know \
         (not a WHATWG label, us-ascii or unknown-8bit): the text will be shown as a guess.",
    ),
    (
        "content-type-duplicate-param",
        "warning",
        "RFC 2045 §5.1; RFC 2183 §2",
        "A Content-Type or Content-Disposition parameter appears twice (compared without \
         regard to case; name and name* are different parameters, as are RFC 2231 sections). \
         Readers disagree on which value counts, which attackers use to hide attachments.",
    ),
    (
        "cte-syntax",
        "error",
        "RFC 2045 §6.1",
        "Content-Transfer-Encoding must be one of 7bit, 8bit, binary, quoted-printable or \
         base64 (in any case), or an x- token; any other value leaves the body undecodable.",
    ),
    (
        "disposition-syntax",
        "error",
        "RFC 2183 §2",
        "A Content-Disposition value must be a disposition type (inline, attachment or an \
         extension token) followed by parameters as in Content-Type; creation-date, \
         modification-date and read-date must be quoted RFC 5322 date-times with numeric \
         zones, and size a number of octets.",
    ),
    (
        "mime-version-syntax",
        "error",
        "RFC 2045 §4",
        "MIME-Version must be 1.0, the only version defined, optionally with comments; \
         readers may treat the message as non-MIME otherwise.",
    ),
];

/// The severity ("error" or "warning") of a rule in [`FIELD_RULES`].
pub fn severity(rule: &str) -> Option<&'static str> {
    FIELD_RULES.iter().find(|r| r.0 == rule).map(|r| r.1)
}

fn finding(rule: &'static str, offset: usize, message: impl Into<String>) -> Finding {
    Finding {
        rule,
        offset,
        message: message.into(),
    }
}

// ---- the lexical layer: RFC 5322 §3.2 ----

/// Why a parse stopped: where and what.
#[derive(Debug)]
struct Problem {
    offset: usize,
    message: String,
}

impl Problem {
    fn new(offset: usize, message: impl Into<String>) -> Self {
        Problem {
            offset,
            message: message.into(),
        }
    }

    fn into_finding(self, rule: &'static str) -> Finding {
        finding(rule, self.offset, self.message)
    }
}

type Parsed<T> = Result<T, Problem>;

/// White space, with the CR and LF an unfolded value may still hold.
fn is_wsp_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A control character that no quoted string or comment may hold.
fn is_ctl(b: u8) -> bool {
    b.is_ascii_control() && !is_wsp_byte(b)
}

/// Text from the value, quoted and escaped, cut after 40 characters.
fn show(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    if cut.len() < text.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

/// A cursor over a structured field value.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn eat(&mut self, wanted: u8) -> bool {
        let found = self.peek() == Some(wanted);
        if found {
            self.pos += 1;
        }
        found
    }

    /// The character at the position, for messages.
    fn found(&self) -> String {
        match self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            Some(c) => format!("{c:?}"),
            None => "the end of the value".into(),
        }
    }

    /// "expected `what`, found …" at the position.
    fn expected(&self, what: &str) -> Problem {
        Problem::new(self.pos, format!("expected {what}, found {}", self.found()))
    }

    /// The run of bytes that `keep` accepts, and where it starts. The
    /// predicates used treat all non-ASCII bytes alike, so runs end on
    /// character boundaries.
    fn take(&mut self, keep: impl Fn(u8) -> bool) -> (usize, &'a str) {
        let start = self.pos;
        let rest = self.text.as_bytes().get(start..).unwrap_or_default();
        self.pos += rest.iter().take_while(|&&b| keep(b)).count();
        (start, self.text.get(start..self.pos).unwrap_or_default())
    }

    /// Skips CFWS (RFC 5322 §3.2.2); whether anything was skipped.
    fn skip_cfws(&mut self) -> Parsed<bool> {
        let start = self.pos;
        loop {
            self.take(is_wsp_byte);
            if self.peek() != Some(b'(') {
                return Ok(self.pos > start);
            }
            self.comment()?;
        }
    }

    /// A comment, nesting counted; the cursor stands on its '('.
    fn comment(&mut self) -> Parsed<()> {
        let open = self.pos;
        let mut depth = 0usize;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'(' => depth += 1,
                b')' if depth <= 1 => return Ok(()),
                b')' => depth -= 1,
                b'\\' => self.pos += 1,
                _ if is_ctl(b) => {
                    let message = format!("control character {:?} in a comment", b as char);
                    return Err(Problem::new(self.pos - 1, message));
                }
                _ => {}
            }
        }
        Err(Problem::new(open, "unterminated comment: missing ')'"))
    }

    /// The content of a quoted string (RFC 5322 §3.2.4), quoted-pairs
    /// undone; the cursor stands on its '"'.
    fn quoted_string(&mut self) -> Parsed<String> {
        let open = self.pos;
        self.pos += 1;
        let mut content = Vec::new();
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => return Ok(String::from_utf8_lossy(&content).into_owned()),
                b'\\' => {
                    content.extend(self.peek());
                    self.pos += 1;
                }
                _ if is_ctl(b) => {
                    let message = format!("control character {:?} in a quoted string", b as char);
                    return Err(Problem::new(self.pos - 1, message));
                }
                _ => content.push(b),
            }
        }
        Err(Problem::new(
            open,
            "unterminated quoted string: missing closing '\"'",
        ))
    }
}

/// The value of a run of ASCII digits, saturating.
fn decimal(digits: &str) -> u64 {
    digits.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    })
}

/// atext (RFC 5322 §3.2.3, UTF-8 per RFC 6532) as bytes.
fn is_atext_byte(b: u8) -> bool {
    b >= 0x80 || address::is_atext(b as char)
}

// ---- Date (RFC 5322 §3.3, §4.3) ----

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
fn date_findings(value: &str) -> (Vec<Finding>, bool) {
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
        self.cur.skip_cfws()?;
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
        self.cur.skip_cfws()?;
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
        if self.cur.skip_cfws()? || self.cur.at_end() {
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
        self.cur.skip_cfws()?;
        if !self.cur.eat(b',') {
            return Err(self.cur.expected("',' after the day name"));
        }
        self.cur.skip_cfws()?;
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
        let before = self.cur.skip_cfws()?;
        if !self.cur.eat(b':') {
            self.cur.pos = start;
            return Ok(false);
        }
        let colon = self.cur.pos - 1;
        if self.cur.skip_cfws()? || before {
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
fn is_leap(cycle: u64) -> bool {
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
fn weekday(day: u64, month: usize, cycle: u64) -> usize {
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

// ---- lexemes of address fields (RFC 5322 §3.2, §3.4) ----

/// What a lexeme of an address field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A run of atext and dots.
    Word,
    Quoted,
    /// A domain literal, "[...]".
    Literal,
    Comment,
    /// Any other ASCII character: `<`, `>`, `@`, `,`, `:`, `;`, ...
    Special(u8),
}

/// One lexeme: its kind and byte range, delimiters included.
#[derive(Debug, Clone, Copy)]
struct Lexeme {
    kind: Kind,
    start: usize,
    end: usize,
}

/// The lexemes of a value, white space left out. Never fails: an
/// unterminated quoted string, literal or comment runs to the end.
fn lexemes(text: &str) -> Vec<Lexeme> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(&b) = bytes.get(pos) {
        let start = pos;
        let kind = match b {
            _ if is_wsp_byte(b) => {
                pos += 1;
                continue;
            }
            b'"' => Kind::Quoted,
            b'[' => Kind::Literal,
            b'(' => Kind::Comment,
            _ if is_atext_byte(b) || b == b'.' => Kind::Word,
            _ => Kind::Special(b),
        };
        pos = lexeme_end(bytes, start, kind);
        out.push(Lexeme {
            kind,
            start,
            end: pos,
        });
    }
    out
}

/// Where the lexeme of `kind` starting at `start` ends.
fn lexeme_end(bytes: &[u8], start: usize, kind: Kind) -> usize {
    let rest = bytes.get(start..).unwrap_or_default();
    let end = match kind {
        Kind::Word => rest
            .iter()
            .take_while(|&&b| is_atext_byte(b) || b == b'.')
            .count(),
        Kind::Special(_) => 1,
        Kind::Quoted => delimited_end(rest, b'"'),
        Kind::Literal => delimited_end(rest, b']'),
        Kind::Comment => comment_end(rest),
    };
    start + end.min(rest.len())
}

/// Length of a quoted string or literal up to its `close`, quoted-pairs
/// skipped; the whole of `rest` when it is not closed.
fn delimited_end(rest: &[u8], close: u8) -> usize {
    let mut i = 1;
    while let Some(&b) = rest.get(i) {
        match b {
            b'\\' => i += 2,
            _ if b == close => return i + 1,
            _ => i += 1,
        }
    }
    rest.len()
}

/// Length of a comment, nesting counted; the whole of `rest` when open.
fn comment_end(rest: &[u8]) -> usize {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = rest.get(i) {
        match b {
            b'(' => depth += 1,
            b')' if depth <= 1 => return i + 1,
            b')' => depth -= 1,
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    rest.len()
}

/// Whether the lexeme at `i` is next to an '@' (comments aside): then it is
/// the local part or the domain of an addr-spec.
fn beside_at(lexemes: &[Lexeme], i: usize) -> bool {
    let is_at = |l: &Lexeme| l.kind == Kind::Special(b'@');
    let not_comment = |l: &&Lexeme| l.kind != Kind::Comment;
    let before = lexemes.get(..i).unwrap_or_default();
    let after = lexemes.get(i + 1..).unwrap_or_default();
    before.iter().rev().find(not_comment).is_some_and(is_at)
        || after.iter().find(not_comment).is_some_and(is_at)
}

// ---- address lists (RFC 5322 §3.4, §3.6.2, §3.6.3) ----

/// Address lists (From, To, Cc, Bcc, Reply-To, Resent-*), parsed by
/// [`crate::address::parse_address_list`]; rule "address-syntax" for its
/// error, at its offset. `allow_group` false for From/Sender (RFC 5322
/// §3.6.2: a mailbox-list or a mailbox, no group); `single` true for Sender
/// (exactly one mailbox); `allow_empty` for Bcc (RFC 5322 §3.6.3: empty or
/// only comments). A non-ASCII local part or domain is an "address-syntax"
/// finding unless `smtputf8` (RFC 6532 §3.2); non-ASCII display names and
/// comments are not (raw 8-bit bytes are the caller's rule).
pub fn check_address_list(
    value: &str,
    allow_group: bool,
    single: bool,
    allow_empty: bool,
    smtputf8: bool,
) -> Vec<Finding> {
    if allow_empty && is_blank(value) {
        return Vec::new();
    }
    let list = match address::parse_address_list(value) {
        Ok(list) => list,
        Err(e) => return vec![finding("address-syntax", e.offset, e.message)],
    };
    let lexemes = lexemes(value);
    let starts = address_starts(&lexemes);
    let mut out = Vec::new();
    if !allow_group {
        group_findings(&list, &starts, &mut out);
    }
    if single {
        single_findings(&list, &starts, allow_group, &mut out);
    }
    if !smtputf8 {
        non_ascii_findings(value, &lexemes, &mut out);
    }
    out.sort_by_key(|f| f.offset);
    out
}

/// How many mailboxes a From value names, group members included (0 if it
/// does not parse), for "Sender required when From has several mailboxes"
/// (RFC 5322 §3.6.2), which the caller reports.
pub fn mailbox_count(value: &str) -> usize {
    address::parse_address_list(value).map_or(0, |list| address::mailboxes(&list).len())
}

/// Whether the value holds only white space and comments.
fn is_blank(value: &str) -> bool {
    let mut cursor = Cursor::new(value);
    cursor.skip_cfws().is_ok() && cursor.at_end()
}

/// Where each top-level address of a parsed list starts.
fn address_starts(lexemes: &[Lexeme]) -> Vec<usize> {
    let mut starts = Vec::new();
    let (mut in_angle, mut in_group, mut next_starts) = (false, false, true);
    for lexeme in lexemes.iter().filter(|l| l.kind != Kind::Comment) {
        if next_starts {
            starts.push(lexeme.start);
            next_starts = false;
        }
        match lexeme.kind {
            Kind::Special(b'<') => in_angle = true,
            Kind::Special(b'>') => in_angle = false,
            Kind::Special(b':') if !in_angle => in_group = true,
            Kind::Special(b';') => in_group = false,
            Kind::Special(b',') if !in_angle && !in_group => next_starts = true,
            _ => {}
        }
    }
    starts
}

fn group_findings(list: &[Address], starts: &[usize], out: &mut Vec<Finding>) {
    for (i, address) in list.iter().enumerate() {
        if let Address::Group { name, .. } = address {
            let message = format!(
                "group {} is not allowed here: this field takes mailboxes only \
                 (RFC 5322 §3.6.2)",
                show(name)
            );
            out.push(finding("address-syntax", offset_of(starts, i), message));
        }
    }
}

fn single_findings(list: &[Address], starts: &[usize], allow_group: bool, out: &mut Vec<Finding>) {
    let count = address::mailboxes(list).len();
    let several = list.len() > 1;
    // A lone group was reported as a group when groups are refused.
    if several || (allow_group && count != 1) {
        let message =
            format!("exactly one mailbox is allowed here (RFC 5322 §3.6.2), found {count}");
        let at = if several { offset_of(starts, 1) } else { 0 };
        out.push(finding("address-syntax", at, message));
    }
}

fn offset_of(starts: &[usize], i: usize) -> usize {
    starts.get(i).copied().unwrap_or(0)
}

/// Non-ASCII local parts and domains: the lexemes on either side of each '@'.
fn non_ascii_findings(value: &str, lexemes: &[Lexeme], out: &mut Vec<Finding>) {
    let mut code = lexemes.iter().filter(|l| l.kind != Kind::Comment);
    let mut previous: Option<&Lexeme> = None;
    while let Some(lexeme) = code.next() {
        if lexeme.kind == Kind::Special(b'@') {
            let parts = [(previous, "local part"), (code.clone().next(), "domain")];
            for (part, what) in parts {
                if let Some(at) = part.and_then(|l| first_non_ascii(value, l)) {
                    out.push(finding("address-syntax", at, non_ascii_message(what)));
                }
            }
        }
        previous = Some(lexeme);
    }
}

fn first_non_ascii(value: &str, lexeme: &Lexeme) -> Option<usize> {
    let text = value.as_bytes().get(lexeme.start..lexeme.end)?;
    text.iter()
        .position(|b| !b.is_ascii())
        .map(|i| lexeme.start + i)
}

fn non_ascii_message(what: &str) -> String {
    match what {
        "domain" => "non-ASCII domain without SMTPUTF8 (RFC 6532 §3.2); write it as \
                     A-labels (xn--..., RFC 5890)"
            .into(),
        _ => "non-ASCII local part without SMTPUTF8 (RFC 6532 §3.2): only SMTPUTF8 \
              transport can deliver it"
            .into(),
    }
}

// ---- msg-id (RFC 5322 §3.6.4, §4.5.4) ----

struct MsgIdParser<'a> {
    cur: Cursor<'a>,
    findings: Vec<Finding>,
    saw_phrase: bool,
}

/// Message-ID (exactly one msg-id; `list` false), In-Reply-To and
/// References (one or more, CFWS between; `list` true) per RFC 5322
/// §3.6.4: "<" id-left "@" id-right ">", id-left a dot-atom-text, id-right a
/// dot-atom-text or a no-fold-literal "[...]". Rule "msgid-syntax" (the
/// first problem; parsing stops there); "msgid-obsolete" (RFC 5322 §4.5.4)
/// for a quoted id-left, CFWS inside the brackets, white space or
/// quoted-pairs in the literal, and, with `list`, phrase words between the
/// msg-ids (reported once).
pub fn check_msg_ids(value: &str, list: bool) -> Vec<Finding> {
    let mut parser = MsgIdParser {
        cur: Cursor::new(value),
        findings: Vec::new(),
        saw_phrase: false,
    };
    if let Err(problem) = parser.run(list) {
        parser.findings.push(problem.into_finding("msgid-syntax"));
    }
    parser.findings
}

impl MsgIdParser<'_> {
    fn obsolete(&mut self, at: usize, message: &str) {
        self.findings.push(finding("msgid-obsolete", at, message));
    }

    fn run(&mut self, list: bool) -> Parsed<()> {
        self.cur.skip_cfws()?;
        let mut count = 0;
        while !self.cur.at_end() {
            if count > 0 && !list {
                let message = format!(
                    "unexpected {} after the msg-id: this field holds exactly one \
                     (RFC 5322 §3.6.4)",
                    self.cur.found()
                );
                return Err(Problem::new(self.cur.pos, message));
            }
            if list && self.cur.peek() != Some(b'<') {
                self.phrase_word()?;
            } else {
                self.msg_id()?;
                count += 1;
            }
            self.cur.skip_cfws()?;
        }
        if count == 0 {
            return Err(self.cur.expected("a msg-id such as <id@example.org>"));
        }
        Ok(())
    }

    /// A word of the obsolete phrase between msg-ids (RFC 5322 §4.5.4).
    fn phrase_word(&mut self) -> Parsed<()> {
        let at = self.cur.pos;
        if self.cur.peek() == Some(b'"') {
            self.cur.quoted_string()?;
        } else if self
            .cur
            .take(|b| is_atext_byte(b) || b == b'.')
            .1
            .is_empty()
        {
            return Err(self.cur.expected("'<' starting a msg-id"));
        }
        if self.cur.peek() == Some(b'@') {
            let message = "msg-id without its angle brackets: expected <id@domain>";
            return Err(Problem::new(at, message));
        }
        if !self.saw_phrase {
            self.saw_phrase = true;
            self.obsolete(
                at,
                "words between msg-ids are obsolete (RFC 5322 §4.5.4); use a comment",
            );
        }
        Ok(())
    }

    /// One msg-id; its obsolete findings are dropped if it is malformed.
    fn msg_id(&mut self) -> Parsed<()> {
        let mark = self.findings.len();
        let result = self.msg_id_parts();
        if result.is_err() {
            self.findings.truncate(mark);
        }
        result
    }

    fn msg_id_parts(&mut self) -> Parsed<()> {
        if !self.cur.eat(b'<') {
            return Err(self
                .cur
                .expected("'<' starting a msg-id such as <id@example.org>"));
        }
        self.inner_cfws()?;
        self.id_left()?;
        self.inner_cfws()?;
        if !self.cur.eat(b'@') {
            return Err(self.cur.expected("'@' between the two parts of the msg-id"));
        }
        self.inner_cfws()?;
        self.id_right()?;
        self.inner_cfws()?;
        if !self.cur.eat(b'>') {
            return Err(self.cur.expected("'>' closing the msg-id"));
        }
        Ok(())
    }

    /// CFWS inside the angle brackets: obsolete.
    fn inner_cfws(&mut self) -> Parsed<()> {
        let at = self.cur.pos;
        if self.cur.skip_cfws()? {
            self.obsolete(
                at,
                "white space or comment inside a msg-id is obsolete (RFC 5322 §4.5.4)",
            );
        }
        Ok(())
    }

    /// dot-atom-text, or the obsolete local-part with quoted strings.
    fn id_left(&mut self) -> Parsed<()> {
        let start = self.cur.pos;
        let mut quoted = false;
        loop {
            if self.cur.peek() == Some(b'"') {
                self.cur.quoted_string()?;
                quoted = true;
            } else if self.cur.take(is_atext_byte).1.is_empty() {
                return Err(self
                    .cur
                    .expected("the left part of the msg-id (dot-atom-text)"));
            }
            if !self.cur.eat(b'.') {
                break;
            }
        }
        if quoted {
            self.obsolete(
                start,
                "quoted string in the left part of a msg-id is obsolete (RFC 5322 §4.5.4)",
            );
        }
        Ok(())
    }

    /// dot-atom-text or no-fold-literal.
    fn id_right(&mut self) -> Parsed<()> {
        if self.cur.peek() == Some(b'[') {
            return self.no_fold_literal();
        }
        loop {
            if self.cur.take(is_atext_byte).1.is_empty() {
                return Err(self
                    .cur
                    .expected("the right part of the msg-id (dot-atom-text)"));
            }
            if !self.cur.eat(b'.') {
                return Ok(());
            }
        }
    }

    /// "[" *dtext "]"; white space and quoted-pairs are obsolete.
    fn no_fold_literal(&mut self) -> Parsed<()> {
        let open = self.cur.pos;
        self.cur.pos += 1;
        let mut obsolete = false;
        while let Some(b) = self.cur.peek() {
            self.cur.pos += 1;
            match b {
                b']' => {
                    if obsolete {
                        self.obsolete(
                            open,
                            "white space or quoted-pair in a msg-id literal is obsolete \
                             (RFC 5322 §4.5.4)",
                        );
                    }
                    return Ok(());
                }
                b'\\' => {
                    obsolete = true;
                    self.cur.pos += 1;
                }
                _ if is_wsp_byte(b) => obsolete = true,
                _ if b >= 0x80 || (b.is_ascii_graphic() && b != b'[') => {}
                _ => {
                    self.cur.pos -= 1;
                    return Err(self.cur.expected("dtext in the msg-id literal"));
                }
            }
        }
        Err(Problem::new(
            open,
            "unterminated literal in msg-id: missing ']'",
        ))
    }
}

// ---- RFC 2047 encoded-words ----

/// Where a field's text may hold RFC 2047 encoded-words (RFC 2047 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordContext {
    /// Unstructured fields (Subject, Comments, X-*): an encoded-word must
    /// be a whole word, separated from other text by white space.
    Unstructured,
    /// Address fields: encoded-words as words of a display name or in
    /// comments; never inside a quoted string or an addr-spec.
    Phrase,
    /// Structured fields (Message-ID, Date, Content-Type, ...): nothing is
    /// decoded, nothing is reported.
    None,
}

/// Which characters Q-encoded text may hold as themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QChars {
    /// Unstructured text: printable ASCII but '?', '=', '_' (RFC 2047 §4.2).
    Text,
    /// In a comment: also not '(', ')', '"' (RFC 2047 §5(2)).
    Comment,
    /// In a phrase: letters, digits, "!*+-/" (RFC 2047 §5(3)).
    Phrase,
}

impl QChars {
    fn allows(self, b: u8) -> bool {
        let text = b.is_ascii_graphic() && !matches!(b, b'?' | b'=' | b'_');
        match self {
            QChars::Text => text,
            QChars::Comment => text && !matches!(b, b'(' | b')' | b'"'),
            QChars::Phrase => b.is_ascii_alphanumeric() || b"!*+-/".contains(&b),
        }
    }

    fn place(self) -> &'static str {
        match self {
            QChars::Text => "(RFC 2047 §4.2)",
            QChars::Comment => "in a comment (RFC 2047 §5(2))",
            QChars::Phrase => "in a display name (RFC 2047 §5(3))",
        }
    }
}

/// How the encoded-words of one stretch of a value are treated.
#[derive(Debug, Clone, Copy)]
enum Zone {
    /// Decoded: every check applies.
    Words(QChars),
    /// Not decoded (the reason says where): only the placement warning.
    Forbidden(&'static str),
}

/// A well-formed encoded-word; offsets relative to its "=?".
struct EncodedWord<'a> {
    len: usize,
    charset: &'a str,
    encoding: &'a str,
    encoding_at: usize,
    text: &'a str,
    text_at: usize,
}

/// What a "=?" starts.
enum Lookup<'a> {
    Word(EncodedWord<'a>),
    /// "=?charset?" followed by something else than an encoded-word's rest.
    Malformed(&'static str),
    NotAWord,
}

/// RFC 2047 §2 token characters (charset and encoding).
fn is_2047_token(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\"/[]?.=".contains(&b)
}

/// The encoded-word `s` starts with. Each attempt reads at most to the
/// fourth '?', and a failed one is retried two bytes on: linear overall.
fn encoded_word(s: &str) -> Lookup<'_> {
    let bytes = s.as_bytes();
    let token_len = |from: usize| {
        let rest = bytes.get(from..).unwrap_or_default();
        rest.iter().take_while(|&&b| is_2047_token(b)).count()
    };
    let charset_len = token_len(2);
    if !s.starts_with("=?") || charset_len == 0 || bytes.get(2 + charset_len) != Some(&b'?') {
        return Lookup::NotAWord;
    }
    let encoding_at = 3 + charset_len;
    let encoding_len = token_len(encoding_at);
    if encoding_len == 0 {
        return Lookup::Malformed("no encoding after the charset");
    }
    if bytes.get(encoding_at + encoding_len) != Some(&b'?') {
        return Lookup::Malformed("no '?' after the encoding");
    }
    let text_at = encoding_at + encoding_len + 1;
    let rest = bytes.get(text_at..).unwrap_or_default();
    let text_len = rest
        .iter()
        .take_while(|&&b| b != b'?' && !is_wsp_byte(b))
        .count();
    if !rest.get(text_len..).unwrap_or_default().starts_with(b"?=") {
        return Lookup::Malformed("no '?=' ending the encoded text (white space inside it?)");
    }
    if text_len == 0 {
        return Lookup::Malformed("empty encoded text");
    }
    Lookup::Word(EncodedWord {
        len: text_at + text_len + 2,
        charset: s.get(2..2 + charset_len).unwrap_or_default(),
        encoding: s
            .get(encoding_at..encoding_at + encoding_len)
            .unwrap_or_default(),
        encoding_at,
        text: s.get(text_at..text_at + text_len).unwrap_or_default(),
        text_at,
    })
}

/// RFC 2047 encoded-words in a value. `context` says where the field's text
/// may hold them (see [`WordContext`]). Rules: "encoded-word-length",
/// "encoded-word-charset", "encoded-word-encoding", "encoded-word-payload"
/// (errors), "encoded-word-placement" and "encoded-word-syntax" (warnings).
/// A word that conforming readers would not decode (inside a quoted string
/// or an addr-spec) gets only the placement warning.
pub fn check_encoded_words(value: &str, context: WordContext) -> Vec<Finding> {
    let mut out = Vec::new();
    match context {
        WordContext::Unstructured => {
            scan_zone(value, (0, value.len()), Zone::Words(QChars::Text), &mut out);
        }
        WordContext::Phrase => phrase_words(value, &mut out),
        WordContext::None => {}
    }
    out
}

/// The zones of an address field, lexeme by lexeme.
fn phrase_words(value: &str, out: &mut Vec<Finding>) {
    let lexemes = lexemes(value);
    let mut in_angle = false;
    for (i, lexeme) in lexemes.iter().enumerate() {
        let zone = match lexeme.kind {
            Kind::Special(b) => {
                in_angle = (in_angle || b == b'<') && b != b'>';
                continue;
            }
            Kind::Comment => Zone::Words(QChars::Comment),
            Kind::Literal => Zone::Forbidden("inside an addr-spec"),
            _ if in_angle || beside_at(&lexemes, i) => Zone::Forbidden("inside an addr-spec"),
            Kind::Quoted => Zone::Forbidden("inside a quoted string"),
            Kind::Word => Zone::Words(QChars::Phrase),
        };
        scan_zone(value, (lexeme.start, lexeme.end), zone, out);
    }
}

/// Checks every "=?" in `value[start..end]`.
fn scan_zone(value: &str, (start, end): (usize, usize), zone: Zone, out: &mut Vec<Finding>) {
    let region = value.get(start..end).unwrap_or_default();
    let mut search = 0;
    while let Some(found) = region.get(search..).and_then(|rest| rest.find("=?")) {
        let at = search + found;
        search = at + 2;
        match encoded_word(region.get(at..).unwrap_or_default()) {
            Lookup::Word(word) => {
                examine(region, at, &word, zone, start, out);
                search = at + word.len;
            }
            Lookup::Malformed(why) if matches!(zone, Zone::Words(_)) => {
                let message = format!("malformed encoded-word: {why} (RFC 2047 §2)");
                out.push(finding("encoded-word-syntax", start + at, message));
            }
            Lookup::Malformed(_) | Lookup::NotAWord => {}
        }
    }
}

/// The findings of one well-formed word at `region[at..]`.
fn examine(
    region: &str,
    at: usize,
    word: &EncodedWord,
    zone: Zone,
    base: usize,
    out: &mut Vec<Finding>,
) {
    let offset = base + at;
    let q = match zone {
        Zone::Forbidden(place) => {
            let message =
                format!("encoded-word {place} is not decoded by conforming readers (RFC 2047 §5)");
            out.push(finding("encoded-word-placement", offset, message));
            return;
        }
        Zone::Words(q) => q,
    };
    if !is_delimited(region, at, at + word.len, q) {
        let message = "encoded-word is not separated from adjacent text by white space \
                       (RFC 2047 §5), so it is not decoded";
        out.push(finding("encoded-word-placement", offset, message));
    }
    check_word(word, offset, q, out);
}

/// Whether the word at `region[start..end]` stands alone: white space (or a
/// comment's parenthesis) or the region's edge on both sides.
fn is_delimited(region: &str, start: usize, end: usize, q: QChars) -> bool {
    let before = region.get(..start).and_then(|s| s.chars().next_back());
    let after = region.get(end..).and_then(|s| s.chars().next());
    let delimiter = |c: char| {
        c.is_ascii() && is_wsp_byte(c as u8) || (q == QChars::Comment && (c == '(' || c == ')'))
    };
    before.is_none_or(delimiter) && after.is_none_or(delimiter)
}

/// Length, charset, encoding and payload of a word at `offset`.
fn check_word(word: &EncodedWord, offset: usize, q: QChars, out: &mut Vec<Finding>) {
    if word.len > 75 {
        let message = format!(
            "encoded-word is {} characters long; at most 75 are allowed (RFC 2047 §2)",
            word.len
        );
        out.push(finding("encoded-word-length", offset, message));
    }
    // An RFC 2231 §5 language suffix: "utf-8*en".
    let charset = word.charset.split('*').next().unwrap_or_default();
    let known = is_charset_known(charset);
    if !known {
        let message = format!("unknown charset {} in encoded-word", show(charset));
        out.push(finding("encoded-word-charset", offset + 2, message));
    }
    let decoded = match word.encoding {
        "b" | "B" => decode_b(word.text),
        "q" | "Q" => decode_q(word.text, q),
        other => {
            let message = format!("encoding {} is neither B nor Q (RFC 2047 §4)", show(other));
            out.push(finding(
                "encoded-word-encoding",
                offset + word.encoding_at,
                message,
            ));
            return;
        }
    };
    let text_at = offset + word.text_at;
    let problem = match decoded {
        Err((i, message)) => Some((text_at + i, message)),
        Ok(bytes) if known => charset_problem(&bytes, charset).map(|m| (text_at, m)),
        Ok(_) => None,
    };
    if let Some((at, message)) = problem {
        out.push(finding("encoded-word-payload", at, message));
    }
}

/// Whether readers know a charset: what [`is_known_charset`] knows, and
/// RFC 1428 "unknown-8bit".
fn is_charset_known(label: &str) -> bool {
    is_known_charset(label) || label.trim().eq_ignore_ascii_case("unknown-8bit")
}

/// Why decoded bytes are not text in `charset`, if they are not.
fn charset_problem(bytes: &[u8], charset: &str) -> Option<String> {
    if charset.eq_ignore_ascii_case("unknown-8bit") {
        return None;
    }
    if charset.eq_ignore_ascii_case("us-ascii") && !bytes.is_ascii() {
        return Some("decoded bytes are not US-ASCII".into());
    }
    let (_, valid) = to_utf8(bytes, Some(charset));
    (!valid).then(|| format!("decoded bytes are not valid {charset}"))
}

/// The character at byte `i` of `text`, for messages.
fn char_at(text: &str, i: usize) -> char {
    text.get(i..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or('?')
}

/// Strict base64 (RFC 2047 §4.1): the alphabet, '=' padding at the end
/// only, a length that is a multiple of 4. Errors: offset in `text`, why.
fn decode_b(text: &str) -> Result<Vec<u8>, (usize, String)> {
    let bytes = text.as_bytes();
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    let data = bytes.get(..bytes.len() - padding).unwrap_or_default();
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, &b) in data.iter().enumerate() {
        let Some(value) = base64_value(b) else {
            let c = char_at(text, i);
            return Err((
                i,
                format!("{c:?} is not a base64 character (RFC 2047 §4.1)"),
            ));
        };
        acc = (acc << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if padding > 2 || !bytes.len().is_multiple_of(4) {
        let message = format!(
            "B-encoded text of {} characters: base64 comes in groups of 4 with at most \
             2 '=' (RFC 2047 §4.1)",
            bytes.len()
        );
        return Err((0, message));
    }
    Ok(out)
}

fn base64_value(b: u8) -> Option<u32> {
    let value = match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(value))
}

/// The Q encoding (RFC 2047 §4.2): "=XX", "_" for a space, and the
/// characters `q` allows. Errors: offset in `text`, why.
fn decode_q(text: &str, q: QChars) -> Result<Vec<u8>, (usize, String)> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'=' => {
                let byte = match (bytes.get(i + 1), bytes.get(i + 2)) {
                    (Some(&hi), Some(&lo)) => hex_pair(hi, lo),
                    _ => None,
                };
                let Some(byte) = byte else {
                    let message = "'=' not followed by two hexadecimal digits (RFC 2047 §4.2)";
                    return Err((i, message.into()));
                };
                out.push(byte);
                i += 3;
                continue;
            }
            b'_' => out.push(b' '),
            _ if q.allows(b) => out.push(b),
            _ => {
                let c = char_at(text, i);
                let message = format!("{c:?} is not allowed in Q-encoded text {}", q.place());
                return Err((i, message));
            }
        }
        i += 1;
    }
    Ok(out)
}

fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    Some((digit(hi)? * 16 + digit(lo)?) as u8)
}

// ---- Content-Type, Content-Disposition (RFC 2045 §5.1, RFC 2183) ----

/// RFC 2045 §5.1 token characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

/// One parameter as written: name, value (unquoted), and where they are.
struct Param<'a> {
    name: &'a str,
    name_at: usize,
    value: String,
    value_at: usize,
    quoted: bool,
}

/// A Content-Type or Content-Disposition value as far as it parses.
#[derive(Default)]
struct MimeValue<'a> {
    /// The type ("multipart") or the disposition type.
    kind: &'a str,
    params: Vec<Param<'a>>,
    problem: Option<Problem>,
    /// Where a ';' with nothing after it ends the value.
    trailing_semicolon: Option<usize>,
}

fn parse_mime(value: &str, with_subtype: bool) -> MimeValue<'_> {
    let mut parsed = MimeValue::default();
    let mut cur = Cursor::new(value);
    parsed.problem = mime_value(&mut cur, with_subtype, &mut parsed).err();
    parsed
}

fn mime_value<'a>(
    cur: &mut Cursor<'a>,
    with_subtype: bool,
    parsed: &mut MimeValue<'a>,
) -> Parsed<()> {
    cur.skip_cfws()?;
    let (_, kind) = cur.take(is_token_byte);
    if kind.is_empty() {
        return Err(cur.expected(match with_subtype {
            true => "a media type such as text/plain",
            false => "a disposition type (inline, attachment or an extension token)",
        }));
    }
    parsed.kind = kind;
    if with_subtype {
        subtype(cur, kind)?;
    }
    loop {
        cur.skip_cfws()?;
        if cur.at_end() {
            return Ok(());
        }
        let semicolon = cur.pos;
        if !cur.eat(b';') {
            return Err(after_value(cur, parsed.params.last()));
        }
        cur.skip_cfws()?;
        if cur.at_end() {
            parsed.trailing_semicolon = Some(semicolon);
            return Ok(());
        }
        parsed.params.push(param(cur)?);
    }
}

/// "/" subtype, CFWS around the '/' allowed.
fn subtype(cur: &mut Cursor, kind: &str) -> Parsed<()> {
    cur.skip_cfws()?;
    if !cur.eat(b'/') {
        return Err(cur.expected(&format!("'/' and a subtype after {}", show(kind))));
    }
    cur.skip_cfws()?;
    if cur.take(is_token_byte).1.is_empty() {
        return Err(cur.expected("a subtype after '/'"));
    }
    Ok(())
}

/// What is wrong where a ';' or the end was expected.
fn after_value(cur: &Cursor, last: Option<&Param>) -> Problem {
    let unquoted = last.filter(|p| !p.quoted);
    match (unquoted, cur.peek()) {
        (Some(p), Some(b)) if b.is_ascii_graphic() => Problem::new(
            cur.pos,
            format!(
                "unexpected {} in the value of {}: a value with special characters must \
                 be quoted (RFC 2045 §5.1)",
                cur.found(),
                show(p.name)
            ),
        ),
        _ => cur.expected("';' or the end of the value"),
    }
}

/// attribute "=" value, value a token or a quoted string.
fn param<'a>(cur: &mut Cursor<'a>) -> Parsed<Param<'a>> {
    let (name_at, name) = cur.take(is_token_byte);
    if name.is_empty() {
        return Err(cur.expected("a parameter name"));
    }
    cur.skip_cfws()?;
    if !cur.eat(b'=') {
        return Err(cur.expected(&format!("'=' after the parameter name {}", show(name))));
    }
    cur.skip_cfws()?;
    let value_at = cur.pos;
    let quoted = cur.peek() == Some(b'"');
    let value = if quoted {
        cur.quoted_string()?
    } else {
        let (_, token) = cur.take(is_token_byte);
        if token.is_empty() {
            let what = format!("a value for {}: a token or a quoted string", show(name));
            return Err(cur.expected(&what));
        }
        token.to_string()
    };
    Ok(Param {
        name,
        name_at,
        value,
        value_at,
        quoted,
    })
}

/// A parameter name split per RFC 2231 §3, §4: "name", "name*", "name*N",
/// "name*N*".
struct ParamName<'a> {
    base: &'a str,
    section: Option<u32>,
    extended: bool,
}

impl ParamName<'_> {
    /// The name for duplicate detection: case folded, "name*0" and
    /// "name*0*" alike, "name" and "name*" apart (RFC 2231 §4.1 fallback).
    fn key(&self) -> String {
        let base = self.base.to_ascii_lowercase();
        match (self.section, self.extended) {
            (Some(n), _) => format!("{base}*{n}"),
            (None, true) => format!("{base}*"),
            (None, false) => base,
        }
    }
}

fn split_param_name(name: &str) -> Result<ParamName<'_>, String> {
    let (rest, extended) = match name.strip_suffix('*') {
        Some(rest) => (rest, true),
        None => (name, false),
    };
    let (base, section) = match rest.split_once('*') {
        None => (rest, None),
        Some((base, digits)) => (base, Some(section_number(digits, name)?)),
    };
    if base.is_empty() {
        return Err(format!(
            "parameter name {} has no name before '*'",
            show(name)
        ));
    }
    Ok(ParamName {
        base,
        section,
        extended,
    })
}

/// An RFC 2231 §3 section number: digits, no leading zero.
fn section_number(digits: &str, name: &str) -> Result<u32, String> {
    let well_formed = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    match digits.parse::<u32>() {
        Ok(n) if well_formed => Ok(n),
        _ => Err(format!(
            "malformed RFC 2231 parameter name {}: expected name*N or name*N* with a \
             section number (RFC 2231 §3)",
            show(name)
        )),
    }
}

/// Name syntax, duplicates and RFC 2231 extended values.
fn check_params(params: &[Param], syntax_rule: &'static str, out: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    for p in params {
        let name = match split_param_name(p.name) {
            Ok(name) => name,
            Err(message) => {
                out.push(finding(syntax_rule, p.name_at, message));
                continue;
            }
        };
        if !seen.insert(name.key()) {
            let message = format!(
                "parameter {} appears more than once; readers disagree on which counts",
                show(p.name)
            );
            out.push(finding("content-type-duplicate-param", p.name_at, message));
        }
        if name.extended
            && let Some(message) = extended_value_problem(&p.value, name.section)
        {
            out.push(finding(syntax_rule, p.value_at, message));
        }
    }
}

/// What is wrong with an RFC 2231 §4 extended value: the first section
/// starts with charset'language', and '%' is followed by two hex digits.
fn extended_value_problem(value: &str, section: Option<u32>) -> Option<String> {
    let mut encoded = value;
    if section.unwrap_or(0) == 0 {
        let Some((_, rest)) = value.split_once('\'').and_then(|(_, r)| r.split_once('\'')) else {
            return Some(
                "RFC 2231 extended value must start with charset'language' (RFC 2231 §4)".into(),
            );
        };
        encoded = rest;
    }
    let bytes = encoded.as_bytes();
    let bad = bytes.iter().enumerate().any(|(i, &b)| {
        b == b'%'
            && !matches!((bytes.get(i + 1), bytes.get(i + 2)),
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit())
    });
    bad.then(|| "'%' not followed by two hexadecimal digits in RFC 2231 value (RFC 2231 §4)".into())
}

/// The first plain (not RFC 2231) parameter of this name.
fn plain_param<'p, 'a>(params: &'p [Param<'a>], name: &str) -> Option<&'p Param<'a>> {
    params.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Content-Type (RFC 2045 §5.1): type "/" subtype tokens, then `;
/// attribute=value` parameters (value a token or a quoted string; RFC 2231
/// attribute*=, attribute*N=, attribute*N*= accepted, extended values'
/// shape checked), comments allowed, nothing else. Rules
/// "content-type-syntax" (the first problem; parsing stops there),
/// "boundary-syntax" (multipart/* without a valid boundary, RFC 2046
/// §5.1.1), "charset-unknown", "content-type-duplicate-param".
pub fn check_content_type(value: &str) -> Vec<Finding> {
    let parsed = parse_mime(value, true);
    let mut out = Vec::new();
    check_params(&parsed.params, "content-type-syntax", &mut out);
    if let Some(charset) = plain_param(&parsed.params, "charset")
        && !is_charset_known(&charset.value)
    {
        let message = format!(
            "unknown charset {}; readers will have to guess (RFC 2046 §4.1.2)",
            show(&charset.value)
        );
        out.push(finding("charset-unknown", charset.value_at, message));
    }
    if parsed.kind.eq_ignore_ascii_case("multipart") {
        check_boundary(&parsed, &mut out);
    }
    trailing_semicolon(&parsed, &mut out);
    if let Some(problem) = parsed.problem {
        out.push(problem.into_finding("content-type-syntax"));
    }
    out.sort_by_key(|f| f.offset);
    out
}

/// Rule "mime-trailing-semicolon".
fn trailing_semicolon(parsed: &MimeValue, out: &mut Vec<Finding>) {
    if let Some(at) = parsed.trailing_semicolon {
        let message = "';' not followed by a parameter; readers ignore it (RFC 2045 §5.1)";
        out.push(finding("mime-trailing-semicolon", at, message));
    }
}

/// A multipart boundary: present, 1-70 bchars, not ending in a space.
fn check_boundary(parsed: &MimeValue, out: &mut Vec<Finding>) {
    let Some(boundary) = plain_param(&parsed.params, "boundary") else {
        // A value that stopped parsing early may have had one further on.
        if parsed.problem.is_none() {
            let message = "multipart type without a boundary parameter (RFC 2046 §5.1.1)";
            out.push(finding("boundary-syntax", 0, message));
        }
        return;
    };
    let text = boundary.value.as_str();
    let is_bchar = |c: char| c.is_ascii_alphanumeric() || "'()+_,-./:=? ".contains(c);
    let problem = if text.is_empty() || text.len() > 70 {
        Some(format!(
            "boundary is {} characters long; 1 to 70 are allowed",
            text.len()
        ))
    } else if let Some(c) = text.chars().find(|&c| !is_bchar(c)) {
        Some(format!("{c:?} is not allowed in a boundary"))
    } else if text.ends_with(' ') {
        Some("boundary ends with a space".into())
    } else {
        None
    };
    if let Some(problem) = problem {
        let message = format!("{problem} (RFC 2046 §5.1.1)");
        out.push(finding("boundary-syntax", boundary.value_at, message));
    }
}

/// Content-Transfer-Encoding (RFC 2045 §6.1): 7bit, 8bit, binary,
/// quoted-printable, base64 (any case) or an x-token, comments allowed;
/// rule "cte-syntax" otherwise.
pub fn check_transfer_encoding(value: &str) -> Vec<Finding> {
    match mechanism(value) {
        Err(problem) => vec![problem.into_finding("cte-syntax")],
        Ok((at, token)) if !is_mechanism(token) => {
            let message = format!(
                "unknown transfer encoding {}; expected 7bit, 8bit, binary, \
                 quoted-printable, base64 or an x- token",
                show(token)
            );
            vec![finding("cte-syntax", at, message)]
        }
        Ok(_) => Vec::new(),
    }
}

/// Whether a Content-Transfer-Encoding value is 7bit, 8bit or binary, the
/// only ones allowed for message/* and multipart/* (RFC 2045 §6.4). False
/// for a value that does not parse.
pub fn is_identity_encoding(value: &str) -> bool {
    mechanism(value).is_ok_and(|(_, token)| {
        ["7bit", "8bit", "binary"]
            .iter()
            .any(|known| token.eq_ignore_ascii_case(known))
    })
}

/// The one token of a Content-Transfer-Encoding value, and where it is.
fn mechanism(value: &str) -> Parsed<(usize, &str)> {
    let mut cur = Cursor::new(value);
    cur.skip_cfws()?;
    let (at, token) = cur.take(is_token_byte);
    if token.is_empty() {
        return Err(cur.expected("a transfer encoding such as 7bit or base64"));
    }
    cur.skip_cfws()?;
    if !cur.at_end() {
        return Err(cur.expected("the end of the value after the encoding"));
    }
    Ok((at, token))
}

fn is_mechanism(token: &str) -> bool {
    let known = ["7bit", "8bit", "binary", "quoted-printable", "base64"];
    let x_token = token.len() > 2 && token.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("x-"));
    x_token || known.iter().any(|k| token.eq_ignore_ascii_case(k))
}

/// Content-Disposition (RFC 2183 §2): a disposition-type token (inline,
/// attachment, or an extension token), then parameters as in Content-Type;
/// creation-date, modification-date and read-date must be quoted RFC 5322
/// date-times with numeric zones, size a number. Rule "disposition-syntax";
/// a repeated parameter is "content-type-duplicate-param".
pub fn check_disposition(value: &str) -> Vec<Finding> {
    let parsed = parse_mime(value, false);
    let mut out = Vec::new();
    check_params(&parsed.params, "disposition-syntax", &mut out);
    for p in &parsed.params {
        disposition_param(p, &mut out);
    }
    trailing_semicolon(&parsed, &mut out);
    if let Some(problem) = parsed.problem {
        out.push(problem.into_finding("disposition-syntax"));
    }
    out.sort_by_key(|f| f.offset);
    out
}

/// The shape of the values RFC 2183 §2 defines.
fn disposition_param(p: &Param, out: &mut Vec<Finding>) {
    let name = p.name.to_ascii_lowercase();
    let problem = match name.as_str() {
        "creation-date" | "modification-date" | "read-date" => date_param_problem(p),
        "size" if p.value.is_empty() || !p.value.bytes().all(|b| b.is_ascii_digit()) => Some(
            format!("size {} must be a number of octets", show(&p.value)),
        ),
        _ => None,
    };
    if let Some(problem) = problem {
        let message = format!("{problem} (RFC 2183 §2)");
        out.push(finding("disposition-syntax", p.value_at, message));
    }
}

fn date_param_problem(p: &Param) -> Option<String> {
    if !p.quoted {
        return Some(format!("{} must be a quoted date-time", p.name));
    }
    let (findings, alpha_zone) = date_findings(&p.value);
    if let Some(f) = findings.iter().find(|f| f.rule != "date-obsolete") {
        return Some(format!(
            "{} is not a valid date-time: {}",
            p.name, f.message
        ));
    }
    alpha_zone.then(|| format!("{} must use a numeric zone (+hhmm or -hhmm)", p.name))
}

/// MIME-Version (RFC 2045 §4): "1.0", comments allowed anywhere between
/// the numbers; rule "mime-version-syntax" otherwise (2.0 and 1.1 included:
/// no other version is defined).
pub fn check_mime_version(value: &str) -> Vec<Finding> {
    match mime_version(value) {
        Ok(()) => Vec::new(),
        Err(problem) => vec![problem.into_finding("mime-version-syntax")],
    }
}

fn mime_version(value: &str) -> Parsed<()> {
    let mut cur = Cursor::new(value);
    cur.skip_cfws()?;
    let (at, major) = cur.take(|b| b.is_ascii_digit());
    if major.is_empty() {
        return Err(cur.expected("the version 1.0"));
    }
    cur.skip_cfws()?;
    if !cur.eat(b'.') {
        return Err(cur.expected("'.' in the version 1.0"));
    }
    cur.skip_cfws()?;
    let (_, minor) = cur.take(|b| b.is_ascii_digit());
    if minor.is_empty() {
        return Err(cur.expected("the minor version number (1.0)"));
    }
    cur.skip_cfws()?;
    if !cur.at_end() {
        return Err(cur.expected("the end of the value after the version"));
    }
    if major.trim_start_matches('0') != "1" || !minor.trim_start_matches('0').is_empty() {
        let version = format!("{major}.{minor}");
        let message = format!(
            "MIME-Version {}: only 1.0 is defined (RFC 2045 §4)",
            show(&version)
        );
        return Err(Problem::new(at, message));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (rule, offset) of each finding.
    fn found(findings: &[Finding]) -> Vec<(&'static str, usize)> {
        findings.iter().map(|f| (f.rule, f.offset)).collect()
    }

    fn assert_clean(findings: Vec<Finding>, value: &str) {
        assert!(findings.is_empty(), "{value:?}: {findings:?}");
    }

    fn addresses(value: &str) -> Vec<(&'static str, usize)> {
        found(&check_address_list(value, true, false, false, false))
    }

    // ---- FIELD_RULES ----

    #[test]
    fn rule_table_is_complete_and_unique() {
        let mut ids: Vec<&str> = FIELD_RULES.iter().map(|r| r.0).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), FIELD_RULES.len());
        assert_eq!(ids.len(), 20);
        for (id, severity, section, text) in FIELD_RULES {
            assert!(matches!(*severity, "error" | "warning"), "{id}");
            assert!(section.starts_with("RFC "), "{id}");
            assert!(text.len() > 80, "{id}");
        }
        assert_eq!(severity("date-obsolete"), Some("warning"));
        assert_eq!(severity("cte-syntax"), Some("error"));
        assert_eq!(severity("no-such-rule"), None);
    }

    // ---- dates ----

    #[test]
    fn dates_clean() {
        for value in [
            "Mon, 01 Jan 2024 00:00:00 +0000",
            "1 Jan 2024 00:00 +0100",
            "(Mon) 01 Jan 2024 00:00:00 +0000 (UTC)",
            "  Thu, 29 Feb 2024 12:30:59 -0800",
            "Tue, 29 Feb 2000 00:00:00 +0000",
            "sun, 31 dec 2023 23:59:60 +1400",
            "Mon,01 Jan 2024 00:00:00 -0000",
            "Mon, 01 Jan 2024 00:00:00 +0000 (Coordinated\r\n Universal Time)",
        ] {
            assert_clean(check_date(value), value);
        }
    }

    #[test]
    fn dates_invalid() {
        let cases: &[(&str, usize)] = &[
            ("Tue, 01 Jan 2024 00:00:00 +0000", 0),
            ("31 Feb 2024 00:00:00 +0000", 0),
            ("29 Feb 2023 00:00:00 +0000", 0),
            ("29 Feb 1900 00:00:00 +0000", 0),
            ("00 Jan 2024 00:00:00 +0000", 0),
            ("31 Apr 2024 00:00:00 +0000", 0),
            ("Mon, 01 Jan 2024 24:00:00 +0000", 17),
            ("01 Jan 2024 00:60:00 +0000", 15),
            ("01 Jan 2024 00:00:61 +0000", 18),
            ("01 Jan 2024 00:00:00 +0160", 21),
            ("01 Jan 1899 00:00:00 +0000", 7),
        ];
        for &(value, offset) in cases {
            assert_eq!(
                found(&check_date(value)),
                [("date-invalid", offset)],
                "{value}"
            );
        }
        let message = &check_date("Tue, 01 Jan 2024 00:00:00 +0000")[0].message;
        assert!(
            message.contains("Mon") && message.contains("Tue"),
            "{message}"
        );
    }

    #[test]
    fn dates_obsolete() {
        assert_eq!(
            found(&check_date("01 Jan 24 00:00:00 GMT")),
            [("date-obsolete", 7), ("date-obsolete", 19)]
        );
        assert_eq!(
            found(&check_date("01 Jan 124 00:00 +0000")),
            [("date-obsolete", 7)]
        );
        assert_eq!(
            found(&check_date("01 Jan 2024 00:00 Z")),
            [("date-obsolete", 18)]
        );
        assert_eq!(
            found(&check_date("01 Jan 2024 00 : 00 +0000")),
            [("date-obsolete", 15)]
        );
        // 99 is 1999, whose 1 Jan was a Friday.
        assert_clean(
            check_date("Fri, 01 Jan 99 00:00 +0000")
                .into_iter()
                .filter(|f| f.rule != "date-obsolete")
                .collect(),
            "2-digit year weekday",
        );
    }

    #[test]
    fn dates_syntax() {
        let cases: &[(&str, usize)] = &[
            ("2024-01-01T00:00:00Z", 0),
            ("Mon 01 Jan 2024 00:00:00 +0000", 4),
            ("Monday, 01 Jan 2024 00:00:00 +0000", 0),
            ("01 January 2024 00:00:00 +0000", 3),
            ("01Jan 2024 00:00:00 +0000", 2),
            ("01 Jan 2024 00:00:00+0000", 20),
            ("01 Jan 2024 00:00:00", 20),
            ("01 Jan 2024 0:00:00 +0000", 12),
            ("01 Jan 2 00:00 +0000", 7),
            ("01 Jan 2024 00:00:00 +000", 21),
            ("01 Jan 2024 00:00:00 CET", 21),
            ("01 Jan 2024 00:00:00 J", 21),
            ("01 Jan 2024 00:00:00 +0000 x", 27),
            ("01 Jan 2024 00:00:00 +0000 (open", 27),
            ("", 0),
        ];
        for &(value, offset) in cases {
            assert_eq!(
                found(&check_date(value)),
                [("date-syntax", offset)],
                "{value}"
            );
        }
    }

    #[test]
    fn weekdays_over_the_calendar() {
        assert_eq!(weekday(1, 0, 2024 % 400), 1);
        assert_eq!(weekday(29, 1, 2000 % 400), 2);
        assert_eq!(weekday(4, 6, 1776 % 400), 4);
        assert_eq!(weekday(1, 0, 1900 % 400), 1);
        assert!(is_leap(2000 % 400) && !is_leap(1900 % 400) && !is_leap(2023 % 400));
        let big = "Fri, 01 Jan 99999999999999999999999 00:00 +0000";
        // 10^23 - 1 is 399 modulo 400; 1 Jan 2399 is a Friday.
        assert_clean(check_date(big), big);
    }

    // ---- addresses ----

    #[test]
    fn groups_refused_where_mailboxes_are_required() {
        let from = |v| found(&check_address_list(v, false, false, false, false));
        assert_eq!(from("a@b, Group: c@d;"), [("address-syntax", 5)]);
        assert_eq!(from("Group: c@d;"), [("address-syntax", 0)]);
        assert!(from("a@b, C <c@d>").is_empty());
        assert!(addresses("a@b, Group: c@d;").is_empty());
    }

    #[test]
    fn sender_holds_one_mailbox() {
        let sender = |v| found(&check_address_list(v, false, true, false, false));
        assert_eq!(sender("a@b, c@d"), [("address-syntax", 5)]);
        assert_eq!(sender("A <a@b>, \"C, D\" <c@d>"), [("address-syntax", 9)]);
        assert!(sender("A <a@b>").is_empty());
    }

    #[test]
    fn empty_lists() {
        let bcc = |v| found(&check_address_list(v, true, false, true, false));
        assert!(bcc("").is_empty());
        assert!(bcc("   ").is_empty());
        assert!(bcc(" (hidden) ").is_empty());
        assert_eq!(bcc("(open"), [("address-syntax", 0)]);
        assert_eq!(addresses(""), [("address-syntax", 0)]);
        assert_eq!(addresses("  "), [("address-syntax", 2)]);
        assert!(addresses("undisclosed-recipients:;").is_empty());
    }

    #[test]
    fn parser_errors_keep_their_offsets() {
        assert_eq!(addresses("a@b c"), [("address-syntax", 4)]);
        assert_eq!(addresses("a..b@x"), [("address-syntax", 2)]);
        assert!(addresses("John (the man) Smith <js@example.org>").is_empty());
    }

    #[test]
    fn non_ascii_addresses_need_smtputf8() {
        let plain = |v| found(&check_address_list(v, true, false, false, false));
        let utf8 = |v| found(&check_address_list(v, true, false, false, true));
        assert_eq!(plain("jöran@example.org"), [("address-syntax", 1)]);
        assert_eq!(plain("J <j@exämple.org>"), [("address-syntax", 7)]);
        assert_eq!(plain("\"jö\" (c) @x.org"), [("address-syntax", 2)]);
        assert!(utf8("jöran@exämple.org").is_empty());
        assert!(plain("Jöran (Zoë) <j@example.org>").is_empty());
        assert!(plain("j@[1.2.3.4]").is_empty());
    }

    #[test]
    fn mailbox_counts() {
        assert_eq!(mailbox_count("a@b"), 1);
        assert_eq!(mailbox_count("a@b, G: c@d, e@f;, g@h"), 4);
        assert_eq!(mailbox_count("G:;"), 0);
        assert_eq!(mailbox_count("not an address"), 0);
    }

    // ---- msg-id ----

    #[test]
    fn msg_ids_clean() {
        for value in [
            "<a.b@c.d>",
            "<a@[1.2.3.4]>",
            " <x!#$%@example.org> (comment)",
        ] {
            assert_clean(check_msg_ids(value, false), value);
        }
        let refs = "<a@b.example>\r\n <c.d@e.example> (third:) <f@[g]>";
        assert_clean(check_msg_ids(refs, true), refs);
        assert_clean(check_msg_ids("<a@b><c@d>", true), "adjacent");
    }

    #[test]
    fn msg_ids_syntax() {
        let one: &[(&str, usize)] = &[
            ("a@b", 0),
            ("<a@b> <c@d>", 6),
            ("<a b@c>", 3),
            ("<a..b@c>", 3),
            ("<.a@c>", 1),
            ("<a@b.>", 5),
            ("<a@b", 4),
            ("<@b>", 1),
            ("<a>", 2),
            ("<a@[b\u{1}]>", 5),
            ("", 0),
            ("(only a comment)", 16),
        ];
        for &(value, offset) in one {
            assert_eq!(
                found(&check_msg_ids(value, false)),
                [("msgid-syntax", offset)],
                "{value}"
            );
        }
        assert_eq!(
            found(&check_msg_ids("<a@b> c@d", true)),
            [("msgid-syntax", 6)]
        );
        assert_eq!(
            found(&check_msg_ids("<a@b>, <c@d>", true)),
            [("msgid-syntax", 5)]
        );
    }

    #[test]
    fn msg_ids_obsolete() {
        assert_eq!(
            found(&check_msg_ids("<\"a b\"@c>", false)),
            [("msgid-obsolete", 1)]
        );
        assert_eq!(
            found(&check_msg_ids("< a@b>", false)),
            [("msgid-obsolete", 1)]
        );
        assert_eq!(
            found(&check_msg_ids("<a@[1. 2]>", false)),
            [("msgid-obsolete", 3)]
        );
        assert_eq!(
            found(&check_msg_ids(
                "Your message of today <a@b> \"x\" <c@d>",
                true
            )),
            [("msgid-obsolete", 0)]
        );
        assert_eq!(
            found(&check_msg_ids("Your message", true)),
            [("msgid-obsolete", 0), ("msgid-syntax", 12)]
        );
    }

    // ---- encoded-words ----

    fn words(value: &str, context: WordContext) -> Vec<(&'static str, usize)> {
        found(&check_encoded_words(value, context))
    }

    fn subject(value: &str) -> Vec<(&'static str, usize)> {
        words(value, WordContext::Unstructured)
    }

    #[test]
    fn encoded_words_clean() {
        for value in [
            "=?utf-8?q?caf=C3=A9?=",
            "=?UTF-8?Q?caf=c3=a9?= =?utf-8?b?Y2Fmw6k=?=",
            "=?iso-8859-1?q?caf=E9?=",
            "=?utf-8*en?q?a_b?=",
            "Re: =?us-ascii?q?plain?= text",
            "=?unknown-8bit?q?=FF?=",
            "price =? none",
            "a=?b",
        ] {
            assert_clean(check_encoded_words(value, WordContext::Unstructured), value);
        }
        let phrase = "=?utf-8?q?J=C3=B6ran?= (=?utf-8?q?a\"b?= x) <j@example.org>";
        assert_eq!(
            words(phrase, WordContext::Phrase),
            [("encoded-word-payload", 35)]
        );
        let phrase = "=?utf-8?q?J=C3=B6ran?= (=?utf-8?q?hi?=) <j@example.org>";
        assert!(words(phrase, WordContext::Phrase).is_empty());
        assert!(words("=?utf-8?x?abc?=", WordContext::None).is_empty());
    }

    #[test]
    fn encoded_word_length() {
        let word = |len: usize| format!("=?utf-8?q?{}?=", "a".repeat(len - 12));
        assert_eq!(subject(&word(76)), [("encoded-word-length", 0)]);
        assert!(subject(&word(75)).is_empty());
    }

    #[test]
    fn encoded_word_encoding_and_charset() {
        assert_eq!(subject("=?utf-8?x?abc?="), [("encoded-word-encoding", 8)]);
        assert_eq!(subject("=?no-such?q?a?="), [("encoded-word-charset", 2)]);
        assert!(subject("=?iso-8859-15?q?a?=").is_empty());
    }

    #[test]
    fn encoded_word_payload() {
        assert_eq!(subject("=?utf-8?b?!!!!?="), [("encoded-word-payload", 10)]);
        assert_eq!(
            subject("=?utf-8?b?Y2Fmw6?="),
            [("encoded-word-payload", 10)]
        );
        assert_eq!(
            subject("=?utf-8?b?Y2F===?="),
            [("encoded-word-payload", 10)]
        );
        assert_eq!(
            subject("=?utf-8?q?caf=E9?="),
            [("encoded-word-payload", 10)]
        );
        assert_eq!(
            subject("=?utf-8?q?caf=G9?="),
            [("encoded-word-payload", 13)]
        );
        assert_eq!(subject("=?utf-8?q?caf=C?="), [("encoded-word-payload", 13)]);
        assert_eq!(subject("=?utf-8?q?café?="), [("encoded-word-payload", 13)]);
        assert_eq!(
            subject("=?us-ascii?q?=E9?="),
            [("encoded-word-payload", 13)]
        );
        assert_eq!(
            words("=?utf-8?q?a.b?= <a@b>", WordContext::Phrase),
            [("encoded-word-payload", 11)]
        );
        assert!(subject("=?utf-8?q?a.b?=").is_empty());
    }

    #[test]
    fn encoded_word_placement() {
        let phrase = |v| words(v, WordContext::Phrase);
        assert_eq!(
            phrase("\"=?utf-8?q?a?=\" <a@b>"),
            [("encoded-word-placement", 1)]
        );
        assert_eq!(phrase("<=?utf-8?q?a?=@b>"), [("encoded-word-placement", 1)]);
        assert_eq!(phrase("=?utf-8?q?a?=@b"), [("encoded-word-placement", 0)]);
        assert_eq!(
            phrase("x=?utf-8?q?a?= <a@b>"),
            [("encoded-word-placement", 1)]
        );
        assert!(phrase("=?utf-8?q?a?= <a@b>").is_empty());
        assert!(phrase("=?utf-8?q?G?=: a@b;").is_empty());
        assert_eq!(subject("abc=?utf-8?q?a?="), [("encoded-word-placement", 3)]);
        assert_eq!(
            subject("=?utf-8?q?a?==?utf-8?q?b?="),
            [
                ("encoded-word-placement", 0),
                ("encoded-word-placement", 13)
            ]
        );
        assert_eq!(subject("(=?utf-8?q?a?=)"), [("encoded-word-placement", 1)]);
        assert!(subject("abc =?utf-8?q?a?=\tdef").is_empty());
    }

    #[test]
    fn encoded_word_syntax() {
        assert_eq!(subject("=?utf-8?q?abc"), [("encoded-word-syntax", 0)]);
        assert_eq!(subject("x =?utf-8?q?a b?="), [("encoded-word-syntax", 2)]);
        assert_eq!(subject("=?utf-8??abc?="), [("encoded-word-syntax", 0)]);
        assert_eq!(subject("=?utf-8?q??="), [("encoded-word-syntax", 0)]);
        assert_eq!(subject("=?utf-8?q"), [("encoded-word-syntax", 0)]);
        assert!(subject("=?utf-8").is_empty());
        assert!(words("\"=?utf-8?q?a b?=\" <a@b>", WordContext::Phrase).is_empty());
    }

    // ---- Content-Type ----

    fn content_type(value: &str) -> Vec<(&'static str, usize)> {
        found(&check_content_type(value))
    }

    #[test]
    fn content_types_clean() {
        for value in [
            "text/plain; charset=utf-8",
            "text/plain; charset=\"utf-8\"",
            "Text/Plain ; Charset = US-ASCII (plain text)",
            "multipart/mixed; boundary=\"----=_Part_0 1\"",
            "multipart/alternative;\r\n boundary=abc",
            "text/plain; charset=unknown-8bit",
            "application/x-stuff; name*0*=utf-8''%C3%A9; name*1=\".txt\"",
            "application/octet-stream; name=\"a\"; name*=utf-8''b",
        ] {
            assert_clean(check_content_type(value), value);
        }
    }

    #[test]
    fn content_type_syntax() {
        let cases: &[(&str, usize)] = &[
            ("text", 4),
            ("text/", 5),
            ("/plain", 0),
            ("text/plain; charset", 19),
            ("text/plain; charset=", 20),
            ("text/plain charset=utf-8", 11),
            ("text/plain; charset=utf-8 format=flowed", 26),
            ("text/plain; name=a=b", 18),
            ("text/plain; name=\"a", 17),
            ("text/plain; name*=a", 18),
            ("text/plain; name*01=a", 12),
            ("text/plain; name*0*=utf-8''%G1", 20),
        ];
        for &(value, offset) in cases {
            assert_eq!(
                content_type(value),
                [("content-type-syntax", offset)],
                "{value}"
            );
        }
    }

    #[test]
    fn a_lone_trailing_semicolon_is_only_a_warning() {
        for value in [
            "text/plain;",
            "text/plain; charset=utf-8;",
            "text/plain; charset=utf-8 ; ",
        ] {
            let findings = check_content_type(value);
            assert_eq!(findings.len(), 1, "{value}");
            assert_eq!(findings[0].rule, "mime-trailing-semicolon", "{value}");
            assert_eq!(severity(findings[0].rule), Some("warning"));
        }
        assert_eq!(
            check_content_type("text/plain; charset=utf-8;")[0].offset,
            25
        );
        let findings = check_disposition("attachment; filename=a.txt;");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, "mime-trailing-semicolon");
        // Two in a row is still a syntax error.
        assert_eq!(content_type("text/plain;;"), [("content-type-syntax", 11)]);
    }

    #[test]
    fn boundaries() {
        assert_eq!(content_type("multipart/mixed"), [("boundary-syntax", 0)]);
        let long = format!("multipart/mixed; boundary=\"{}\"", "b".repeat(71));
        assert_eq!(content_type(&long), [("boundary-syntax", 26)]);
        let ok = format!("multipart/mixed; boundary=\"{}\"", "b".repeat(70));
        assert!(content_type(&ok).is_empty());
        assert_eq!(
            content_type("multipart/mixed; boundary=\"ab \""),
            [("boundary-syntax", 26)]
        );
        assert_eq!(
            content_type("multipart/mixed; boundary=\"a*b\""),
            [("boundary-syntax", 26)]
        );
        assert_eq!(
            content_type("multipart/mixed; boundary=\"\""),
            [("boundary-syntax", 26)]
        );
        assert!(content_type("text/plain").is_empty());
    }

    #[test]
    fn charsets_and_duplicates() {
        assert_eq!(
            content_type("text/plain; charset=klingon"),
            [("charset-unknown", 20)]
        );
        assert_eq!(
            content_type("text/plain; format=flowed; format=fixed"),
            [("content-type-duplicate-param", 27)]
        );
        assert_eq!(
            content_type("text/plain; A*0=x; a*0*=utf-8''y"),
            [("content-type-duplicate-param", 19)]
        );
        assert!(content_type("text/plain; format=flowed; delsp=yes").is_empty());
    }

    // ---- Content-Transfer-Encoding ----

    #[test]
    fn transfer_encodings() {
        for value in [
            "Base64",
            "x-uue",
            " 7bit (plain)",
            "QUOTED-PRINTABLE",
            "binary",
        ] {
            assert_clean(check_transfer_encoding(value), value);
        }
        assert_eq!(
            found(&check_transfer_encoding("base-64")),
            [("cte-syntax", 0)]
        );
        assert_eq!(found(&check_transfer_encoding(" x-")), [("cte-syntax", 1)]);
        assert_eq!(
            found(&check_transfer_encoding("8bit 7bit")),
            [("cte-syntax", 5)]
        );
        assert_eq!(found(&check_transfer_encoding("")), [("cte-syntax", 0)]);
        assert!(is_identity_encoding("7BIT") && is_identity_encoding("binary (raw)"));
        assert!(!is_identity_encoding("base64") && !is_identity_encoding("8bit x"));
    }

    // ---- Content-Disposition ----

    #[test]
    fn dispositions() {
        for value in [
            "attachment; filename=\"a.pdf\"",
            "attachment; filename*=utf-8''%C3%A9.pdf",
            "inline",
            "x-custom; size=1024",
            "attachment; creation-date=\"Mon, 01 Jan 2024 00:00:00 +0000\"",
        ] {
            assert_clean(check_disposition(value), value);
        }
        let cases: &[(&str, usize)] = &[
            ("; filename=a", 0),
            ("attachment; filename=a b", 23),
            ("inline/x", 6),
            ("attachment; size=12k", 17),
            ("attachment; read-date=\"01 Jan 2024 00:00:00 GMT\"", 22),
            ("attachment; read-date=\"31 Feb 2024 00:00:00 +0000\"", 22),
            ("attachment; filename*=%C3%A9", 22),
        ];
        for &(value, offset) in cases {
            assert_eq!(
                found(&check_disposition(value)),
                [("disposition-syntax", offset)],
                "{value}"
            );
        }
        assert_eq!(
            found(&check_disposition("attachment; filename=a; FILENAME=b")),
            [("content-type-duplicate-param", 24)]
        );
    }

    // ---- MIME-Version ----

    #[test]
    fn mime_versions() {
        for value in ["1.0", "1.0 (produced by X)", " 1.(odd)0", "(c) 1 . 0"] {
            assert_clean(check_mime_version(value), value);
        }
        let cases: &[(&str, usize)] = &[("2.0", 0), ("1.1", 0), ("1", 1), ("1.0 x", 4), ("", 0)];
        for &(value, offset) in cases {
            assert_eq!(
                found(&check_mime_version(value)),
                [("mime-version-syntax", offset)],
                "{value}"
            );
        }
    }

    // ---- hostile input ----

    /// Pseudo-random strings of the fragments that matter to the checks.
    fn odd_strings(count: usize) -> impl Iterator<Item = String> {
        const PIECES: &[&str] = &[
            "=?",
            "?=",
            "?",
            "utf-8",
            "q",
            "b",
            "=C3",
            "=",
            "_",
            "é",
            "\"",
            "\\",
            "(",
            ")",
            "<",
            ">",
            "@",
            ",",
            ";",
            ":",
            ".",
            "[",
            "]",
            " ",
            "\r\n ",
            "\0",
            "Mon",
            "Jan",
            "01",
            "2024",
            "+0000",
            "GMT",
            "/",
            "*",
            "'",
            "%",
            "boundary",
            "multipart/x",
            "a",
        ];
        crate::test_support::joined_pieces(PIECES, count, 10)
    }

    fn check_everything(value: &str) -> usize {
        let mut all = check_date(value);
        all.extend(check_address_list(value, false, true, true, false));
        all.extend(check_msg_ids(value, true));
        all.extend(check_msg_ids(value, false));
        for context in [WordContext::Unstructured, WordContext::Phrase] {
            all.extend(check_encoded_words(value, context));
        }
        all.extend(check_content_type(value));
        all.extend(check_transfer_encoding(value));
        all.extend(check_disposition(value));
        all.extend(check_mime_version(value));
        let _ = (mailbox_count(value), is_identity_encoding(value));
        for f in &all {
            assert!(f.offset <= value.len(), "{value:?}: {f:?}");
            assert!(value.is_char_boundary(f.offset), "{value:?}: {f:?}");
            assert!(severity(f.rule).is_some(), "{value:?}: {f:?}");
            assert!(!f.message.contains('\n'), "{value:?}: {f:?}");
        }
        all.len()
    }

    #[test]
    fn odd_input_does_not_panic() {
        let total: usize = odd_strings(30_000).map(|s| check_everything(&s)).sum();
        assert!(total > 10_000);
    }

    #[test]
    fn large_input_stays_linear() {
        for piece in [
            "(",
            "=?a",
            "=?a?b?",
            "\"",
            "<a@b>",
            "=?utf-8?q?a?= ",
            "a.",
            "\\",
            "a(c)",
            "(c)",
            "=?=?",
            "x=?utf-8?q?",
            "a@b,",
            "G:",
            "1 ",
            "<a@[",
            "; a=b",
        ] {
            let value = piece.repeat(200_000);
            check_everything(&value);
        }
    }
}
