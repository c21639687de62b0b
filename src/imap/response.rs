//! Server responses (RFC 3501 §7 and the formal syntax of §9; RFC 9051
//! where it differs), read one at a time through an [`ImapWire`].
//!
//! [`read_response`] reads one complete response: a tagged completion, a
//! piece of untagged data or a continuation request. A literal `{n}` (or
//! `~{n}`, RFC 3516) may end any line of a response, in a list, an
//! ENVELOPE or a mailbox name; its octets are read with the wire's bound
//! and the response goes on with the next line. A literal larger than
//! [`Limits::max_literal`] is refused (76) before anything is read, and all
//! collected literals of one response together stay under
//! [`Limits::max_collected`]. With [`read_response_to`], the message text
//! of a FETCH (`BODY[...]`, `BINARY[...]`, `RFC822`, `RFC822.HEADER`,
//! `RFC822.TEXT`) goes to a sink instead of memory, so that a 20 MiB
//! message costs a buffer, not 20 MiB.
//!
//! Anything that breaks the grammar is an [`ErrorKind::Protocol`] error
//! naming what was wrong; after one the stream position is unknown and the
//! connection should be dropped. Untagged data this module does not know is
//! kept as [`Untagged::Other`], never dropped. Nesting depth and the number
//! of values in one response are bounded ([`Limits`]).

use std::io::Write;

use crate::error::{Error, ErrorKind};
use crate::imap::literal::{ImapWire, literal_at_end};

/// Bounds on one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest literal kept in memory.
    pub max_literal: u64,
    /// All literals kept in memory for one response, together.
    pub max_collected: u64,
    /// The largest literal written to a sink by [`read_response_to`].
    pub max_streamed: u64,
    /// The deepest nesting of parenthesised lists (parsing recurses once
    /// per level, so keep it in the hundreds).
    pub max_depth: usize,
    /// The most values (atoms, strings, numbers, lists, flags) in one
    /// response; SEARCH numbers are bounded by the line length instead.
    pub max_items: usize,
}

impl Default for Limits {
    /// 16 MiB per literal, 24 MiB per response, streamed literals up to
    /// 1 TiB (no mailbox holds a larger message: a literal declared larger,
    /// `{18446744073709551615}`, is refused before it is read), depth 100,
    /// a million values.
    fn default() -> Self {
        Limits {
            max_literal: 16 << 20,
            max_collected: 24 << 20,
            max_streamed: 1 << 40,
            max_depth: 100,
            max_items: 1 << 20,
        }
    }
}

/// One server response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The completion of a command (RFC 3501 §7.1: `response-tagged`).
    Tagged {
        /// The command's tag.
        tag: String,
        /// OK, NO or BAD.
        status: Completion,
        /// The response code in brackets, if any.
        code: Option<Code>,
        /// The human-readable text.
        text: String,
    },
    /// Untagged data or status (`*`).
    Untagged(Untagged),
    /// A continuation request (`+`, RFC 3501 §7.5); the text is kept raw
    /// (a SASL challenge in base64, or human text).
    Continuation {
        /// What follows `+ `.
        text: String,
    },
}

/// The result of a tagged completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Success.
    Ok,
    /// Operational failure.
    No,
    /// Protocol error in the command.
    Bad,
}

/// An untagged status condition (RFC 3501 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Information, or a greeting.
    Ok,
    /// A warning.
    No,
    /// An error not tied to a command.
    Bad,
    /// A greeting: already authenticated.
    Preauth,
    /// The server is closing the connection.
    Bye,
}

/// Whether a mailbox line came from LIST or LSUB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `* LIST` (RFC 3501 §7.2.2).
    List,
    /// `* LSUB` (RFC 3501 §7.2.3).
    Lsub,
}

/// Untagged data (RFC 3501 §7.1 to §7.4; ENABLED, RFC 5161).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Untagged {
    /// `* OK`, `* NO`, `* BAD`, `* PREAUTH`, `* BYE`.
    Condition {
        /// Which one.
        condition: Condition,
        /// The response code in brackets, if any.
        code: Option<Code>,
        /// The human-readable text.
        text: String,
    },
    /// `* CAPABILITY`: capability names as sent.
    Capability(Vec<String>),
    /// `* LIST` or `* LSUB`.
    List {
        /// LIST or LSUB.
        kind: ListKind,
        /// Name attributes (`\HasNoChildren`, `\Sent`), as sent.
        flags: Vec<String>,
        /// The hierarchy delimiter; `None` for a flat name space.
        delimiter: Option<char>,
        /// The mailbox name as octets (modified UTF-7 or, after ENABLE
        /// UTF8=ACCEPT, UTF-8); `INBOX` in any case is given as `INBOX`.
        name: Vec<u8>,
        /// Extended data after the name (RFC 5258 `mbox-list-extended`).
        extended: Vec<Value>,
    },
    /// `* STATUS mailbox (MESSAGES 3 UNSEEN 1)`.
    Status {
        /// The mailbox name as octets.
        mailbox: Vec<u8>,
        /// Attribute names as sent, with their numbers.
        items: Vec<(String, u64)>,
    },
    /// `* n EXISTS`.
    Exists(u32),
    /// `* n RECENT`.
    Recent(u32),
    /// `* n EXPUNGE`.
    Expunge(u32),
    /// `* SEARCH` and its message numbers or UIDs.
    Search(Vec<u32>),
    /// `* FLAGS (...)`.
    Flags(Vec<String>),
    /// `* n FETCH (...)`: item names as sent (`BODY[HEADER.FIELDS (SUBJECT)]`
    /// with its section and origin) and their values.
    Fetch {
        /// The message sequence number.
        seq: u32,
        /// The items in the order sent; [`fetch_item`] finds one.
        items: Vec<(String, Value)>,
    },
    /// `* ENABLED` (RFC 5161).
    Enabled(Vec<String>),
    /// Any other untagged data: its name (`NAMESPACE`, `ESEARCH`, `ID`) and
    /// what follows as a list of values. For `* n NAME ...` the number is
    /// the first value. A rest that is not a sequence of values is kept as
    /// one raw string.
    Other {
        /// The response name, as sent.
        name: String,
        /// Everything after the name.
        rest: Value,
    },
}

/// A response code (RFC 3501 §7.1; RFC 5530 codes as [`Code::Other`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// `ALERT`: the text must be shown to the user.
    Alert,
    /// `BADCHARSET` and the charsets the server supports.
    BadCharset(Vec<Vec<u8>>),
    /// `CAPABILITY` and the capability names.
    Capability(Vec<String>),
    /// `PARSE`: a message could not be parsed.
    Parse,
    /// `PERMANENTFLAGS` and the flags (`\*` included).
    PermanentFlags(Vec<String>),
    /// `READ-ONLY`.
    ReadOnly,
    /// `READ-WRITE`.
    ReadWrite,
    /// `TRYCREATE`.
    TryCreate,
    /// `UIDNEXT n`.
    UidNext(u32),
    /// `UIDVALIDITY n`.
    UidValidity(u32),
    /// `UNSEEN n`.
    Unseen(u32),
    /// `REFERRAL url` (RFC 2221); never followed.
    Referral(String),
    /// Any other code (`NONEXISTENT`, `AUTHENTICATIONFAILED`), upper-cased,
    /// with its text if any.
    Other(String, Option<String>),
}

/// A generic value (RFC 3501 §9 `atom`, `number`, `string`, `nil`, lists):
/// the tree of a FETCH item or of unknown data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An atom (a flag `\Seen`, `NIL` excepted), as sent.
    Atom(String),
    /// A number.
    Number(u64),
    /// A quoted string or a literal, as octets.
    String(Vec<u8>),
    /// `NIL`.
    Nil,
    /// A parenthesised list.
    List(Vec<Value>),
    /// A string of this many octets written to the caller's sink.
    Streamed(u64),
}

impl Value {
    /// The number, if this is one.
    pub fn as_number(&self) -> Option<u64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The octets of a string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::String(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// An `nstring`: `Some(None)` for NIL, `Some(Some(octets))` for a
    /// string, `None` for anything else.
    pub fn as_nstring(&self) -> Option<Option<&[u8]>> {
        match self {
            Value::Nil => Some(None),
            Value::String(bytes) => Some(Some(bytes)),
            _ => None,
        }
    }

    /// The atom's text.
    pub fn as_atom(&self) -> Option<&str> {
        match self {
            Value::Atom(atom) => Some(atom),
            _ => None,
        }
    }

    /// The list's elements.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(list) => Some(list),
            _ => None,
        }
    }

    /// Whether this is NIL.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The atoms of a list (the FLAGS of a message), or `None` when this is
    /// not a list of atoms.
    pub fn as_atoms(&self) -> Option<Vec<&str>> {
        self.as_list()?.iter().map(Value::as_atom).collect()
    }
}

/// The value of the FETCH item `name` (compared case-insensitively:
/// `uid`, `BODY[HEADER.FIELDS (SUBJECT)]`).
pub fn fetch_item<'a>(items: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    items
        .iter()
        .find(|(item, _)| item.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// An address of an ENVELOPE (RFC 3501 §7.4.2 `address`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// The display name (RFC 2047 words undecoded).
    pub name: Option<Vec<u8>>,
    /// The source route (obsolete).
    pub adl: Option<Vec<u8>>,
    /// The local part; with `host` NIL, the start or end of a group.
    pub mailbox: Option<Vec<u8>>,
    /// The domain.
    pub host: Option<Vec<u8>>,
}

/// An ENVELOPE (RFC 3501 §7.4.2), its strings as octets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// The Date field.
    pub date: Option<Vec<u8>>,
    /// The Subject field (RFC 2047 words undecoded).
    pub subject: Option<Vec<u8>>,
    /// From.
    pub from: Vec<Address>,
    /// Sender.
    pub sender: Vec<Address>,
    /// Reply-To.
    pub reply_to: Vec<Address>,
    /// To.
    pub to: Vec<Address>,
    /// Cc.
    pub cc: Vec<Address>,
    /// Bcc.
    pub bcc: Vec<Address>,
    /// In-Reply-To.
    pub in_reply_to: Option<Vec<u8>>,
    /// Message-ID.
    pub message_id: Option<Vec<u8>>,
}

impl Envelope {
    /// The envelope in an ENVELOPE item's value; a value of another shape
    /// is a protocol error.
    pub fn from_value(value: &Value) -> Result<Envelope, Error> {
        let fields = value
            .as_list()
            .filter(|fields| fields.len() == 10)
            .ok_or_else(|| Error::protocol("an ENVELOPE is not a list of 10 fields"))?;
        Ok(Envelope {
            date: envelope_string(&fields[0])?,
            subject: envelope_string(&fields[1])?,
            from: addresses(&fields[2])?,
            sender: addresses(&fields[3])?,
            reply_to: addresses(&fields[4])?,
            to: addresses(&fields[5])?,
            cc: addresses(&fields[6])?,
            bcc: addresses(&fields[7])?,
            in_reply_to: envelope_string(&fields[8])?,
            message_id: envelope_string(&fields[9])?,
        })
    }
}

/// An `nstring` of an envelope, owned.
fn envelope_string(value: &Value) -> Result<Option<Vec<u8>>, Error> {
    value
        .as_nstring()
        .map(|s| s.map(<[u8]>::to_vec))
        .ok_or_else(|| Error::protocol("an ENVELOPE field is neither a string nor NIL"))
}

/// NIL or a list of addresses, each a list of four `nstring`s.
fn addresses(value: &Value) -> Result<Vec<Address>, Error> {
    if value.is_nil() {
        return Ok(Vec::new());
    }
    let wrong = || Error::protocol("an ENVELOPE address list is malformed");
    let list = value.as_list().ok_or_else(wrong)?;
    list.iter()
        .map(|address| {
            let parts = address
                .as_list()
                .filter(|p| p.len() == 4)
                .ok_or_else(wrong)?;
            Ok(Address {
                name: envelope_string(&parts[0])?,
                adl: envelope_string(&parts[1])?,
                mailbox: envelope_string(&parts[2])?,
                host: envelope_string(&parts[3])?,
            })
        })
        .collect()
}

/// Reads one response, every literal kept in memory.
pub fn read_response<W: ImapWire + ?Sized>(
    wire: &mut W,
    limits: &Limits,
) -> Result<Response, Error> {
    Parser::start(wire, *limits, None)?.response()
}

/// Reads one response; the message text of a FETCH (`BODY[...]`,
/// `BINARY[...]`, `RFC822`, `RFC822.HEADER`, `RFC822.TEXT`) is written to
/// `sink` and given as [`Value::Streamed`]. Other literals are kept.
pub fn read_response_to<W: ImapWire + ?Sized>(
    wire: &mut W,
    limits: &Limits,
    sink: &mut dyn Write,
) -> Result<Response, Error> {
    Parser::start(wire, *limits, Some(sink))?.response()
}

/// The state of reading one response: the current line and where in it.
struct Parser<'a, W: ImapWire + ?Sized> {
    wire: &'a mut W,
    limits: Limits,
    sink: Option<&'a mut dyn Write>,
    line: Vec<u8>,
    pos: usize,
    items: usize,
    collected: u64,
    literals: usize,
}

impl<'a, W: ImapWire + ?Sized> Parser<'a, W> {
    /// Reads the first line.
    fn start(
        wire: &'a mut W,
        limits: Limits,
        sink: Option<&'a mut dyn Write>,
    ) -> Result<Self, Error> {
        let line = wire.read_line()?;
        Ok(Parser {
            wire,
            limits,
            sink,
            line,
            pos: 0,
            items: 0,
            collected: 0,
            literals: 0,
        })
    }

    /// `response` (RFC 3501 §9): continuation, untagged or tagged.
    fn response(mut self) -> Result<Response, Error> {
        let response = match self.peek() {
            Some(b'+') => {
                self.pos += 1;
                self.skip_space();
                Response::Continuation { text: self.text() }
            }
            Some(b'*') => {
                self.pos += 1;
                self.space()?;
                Response::Untagged(self.untagged()?)
            }
            _ => self.tagged()?,
        };
        self.end()?;
        Ok(response)
    }

    /// `response-tagged`: tag SP resp-cond-state.
    fn tagged(&mut self) -> Result<Response, Error> {
        let tag = self.atom_where(|b| (is_atom_char(b) || b == b']') && b != b'+', "a tag")?;
        self.space()?;
        let word = self.keyword()?;
        let status = match word.as_str() {
            "OK" => Completion::Ok,
            "NO" => Completion::No,
            "BAD" => Completion::Bad,
            _ => return Err(self.error("OK, NO or BAD after the tag")),
        };
        let (code, text) = self.resp_text()?;
        Ok(Response::Tagged {
            tag,
            status,
            code,
            text,
        })
    }

    /// Everything after `* `.
    fn untagged(&mut self) -> Result<Untagged, Error> {
        if self.peek().is_some_and(|b| b.is_ascii_digit()) {
            return self.numbered();
        }
        let name = self.atom_where(is_atom_char, "an untagged response name")?;
        let condition = match name.to_ascii_uppercase().as_str() {
            "OK" => Condition::Ok,
            "NO" => Condition::No,
            "BAD" => Condition::Bad,
            "PREAUTH" => Condition::Preauth,
            "BYE" => Condition::Bye,
            _ => return self.data(name),
        };
        let (code, text) = self.resp_text()?;
        Ok(Untagged::Condition {
            condition,
            code,
            text,
        })
    }

    /// `mailbox-data` and the other unnumbered data.
    fn data(&mut self, name: String) -> Result<Untagged, Error> {
        Ok(match name.to_ascii_uppercase().as_str() {
            "CAPABILITY" => Untagged::Capability(self.atoms_to_end()?),
            "ENABLED" => Untagged::Enabled(self.atoms_to_end()?),
            "LIST" => self.list_data(ListKind::List)?,
            "LSUB" => self.list_data(ListKind::Lsub)?,
            "STATUS" => self.status_data()?,
            "SEARCH" => Untagged::Search(self.search_numbers()?),
            "FLAGS" => {
                self.space()?;
                Untagged::Flags(self.flag_list()?)
            }
            _ => self.other(name, Vec::new())?,
        })
    }

    /// `* n EXISTS`, `RECENT`, `EXPUNGE`, `FETCH` and other numbered data.
    fn numbered(&mut self) -> Result<Untagged, Error> {
        let number = self.number()?;
        self.space()?;
        let name = self.atom_where(is_atom_char, "a response name after the number")?;
        let n = u32::try_from(number).map_err(|_| self.error("a message number of 32 bits"))?;
        Ok(match name.to_ascii_uppercase().as_str() {
            "EXISTS" => Untagged::Exists(n),
            "RECENT" => Untagged::Recent(n),
            "EXPUNGE" => Untagged::Expunge(self.nonzero(n)?),
            "FETCH" => {
                self.space()?;
                let seq = self.nonzero(n)?;
                Untagged::Fetch {
                    seq,
                    items: self.msg_att()?,
                }
            }
            _ => {
                // The number is one of the values kept.
                self.count()?;
                self.other(name, vec![Value::Number(number)])?
            }
        })
    }

    /// `nz-number`.
    fn nonzero(&self, n: u32) -> Result<u32, Error> {
        match n {
            0 => Err(self.error("a message number other than 0")),
            n => Ok(n),
        }
    }

    /// Unknown data: the rest as values, or as one raw string when it is
    /// not a sequence of values and no literal was announced or read (a
    /// literal's octets must never be taken for responses).
    fn other(&mut self, name: String, mut rest: Vec<Value>) -> Result<Untagged, Error> {
        let start = self.pos;
        let literals = self.literals;
        match self.values_to_end() {
            Ok(values) => rest.extend(values),
            Err(error) if !self.may_keep_raw(&error, literals) => return Err(error),
            Err(_) => {
                let raw = self.line[start..]
                    .strip_prefix(b" ")
                    .unwrap_or(&self.line[start..]);
                rest.push(Value::String(raw.to_vec()));
                self.pos = self.line.len();
            }
        }
        Ok(Untagged::Other {
            name,
            rest: Value::List(rest),
        })
    }

    /// Whether a failed parse of unknown data may be kept as raw text: a
    /// grammar error on the first line, which announces no literal.
    fn may_keep_raw(&self, error: &Error, literals: usize) -> bool {
        let announces = matches!(literal_at_end(&self.line), Ok(Some(_)) | Err(_));
        error.kind() == ErrorKind::Protocol && self.literals == literals && !announces
    }

    /// `*(SP value)` up to the end of the line.
    fn values_to_end(&mut self) -> Result<Vec<Value>, Error> {
        let mut values = Vec::new();
        while !self.at_end() {
            self.space()?;
            values.push(self.value(0)?);
        }
        Ok(values)
    }

    /// `*(SP atom)` up to the end of the line (a trailing space tolerated).
    fn atoms_to_end(&mut self) -> Result<Vec<String>, Error> {
        let mut atoms = Vec::new();
        while !self.at_end() {
            self.space()?;
            if self.at_end() {
                break;
            }
            self.count()?;
            atoms.push(self.atom_where(is_atom_char, "an atom")?);
        }
        Ok(atoms)
    }

    /// `mailbox-list` (RFC 3501 §7.2.2; RFC 5258 extended data kept).
    fn list_data(&mut self, kind: ListKind) -> Result<Untagged, Error> {
        self.space()?;
        let flags = self.flag_list()?;
        self.space()?;
        let delimiter = match self.nil() {
            true => None,
            false => Some(self.delimiter()?),
        };
        self.space()?;
        let name = self.mailbox()?;
        let extended = self.values_to_end()?;
        Ok(Untagged::List {
            kind,
            flags,
            delimiter,
            name,
            extended,
        })
    }

    /// The quoted delimiter: exactly one 7-bit character.
    fn delimiter(&mut self) -> Result<char, Error> {
        if self.peek() != Some(b'"') {
            return Err(self.error("a quoted hierarchy delimiter or NIL"));
        }
        match self.quoted()?.as_slice() {
            [c] if c.is_ascii() => Ok(char::from(*c)),
            _ => Err(self.error("a hierarchy delimiter of one 7-bit character")),
        }
    }

    /// `STATUS mailbox (att number ...)` (RFC 3501 §7.2.4).
    fn status_data(&mut self) -> Result<Untagged, Error> {
        self.space()?;
        let mailbox = self.mailbox()?;
        self.space()?;
        self.expect(b'(', "'(' before the status items")?;
        let mut items = Vec::new();
        while self.peek() != Some(b')') {
            if !items.is_empty() {
                self.space()?;
            }
            self.count()?;
            let name = self.atom_where(is_atom_char, "a status item name")?;
            self.space()?;
            items.push((name, self.number()?));
        }
        self.pos += 1;
        Ok(Untagged::Status { mailbox, items })
    }

    /// `mailbox`: an astring, `INBOX` in any case given as `INBOX`.
    fn mailbox(&mut self) -> Result<Vec<u8>, Error> {
        let name = self.astring()?;
        Ok(match name.eq_ignore_ascii_case(b"INBOX") {
            true => b"INBOX".to_vec(),
            false => name,
        })
    }

    /// `*(SP nz-number)` of SEARCH.
    fn search_numbers(&mut self) -> Result<Vec<u32>, Error> {
        let mut numbers = Vec::new();
        while !self.at_end() {
            self.space()?;
            if self.at_end() {
                break;
            }
            let n = self.number()?;
            let n = u32::try_from(n)
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| self.error("a SEARCH number of 1 to 2^32-1"))?;
            numbers.push(n);
        }
        Ok(numbers)
    }

    /// `flag-list`: `(` flags separated by spaces `)`.
    fn flag_list(&mut self) -> Result<Vec<String>, Error> {
        self.expect(b'(', "'(' before a flag list")?;
        let mut flags = Vec::new();
        while self.peek() != Some(b')') {
            if !flags.is_empty() {
                self.space()?;
            }
            self.count()?;
            flags.push(self.flag()?);
        }
        self.pos += 1;
        Ok(flags)
    }

    /// A flag: an atom, or `\` and an atom, or `\*`.
    fn flag(&mut self) -> Result<String, Error> {
        let backslash = self.peek() == Some(b'\\');
        if backslash {
            self.pos += 1;
            if self.peek() == Some(b'*') {
                self.pos += 1;
                return Ok("\\*".to_owned());
            }
        }
        let atom = self.atom_where(is_atom_char, "a flag")?;
        Ok(match backslash {
            true => format!("\\{atom}"),
            false => atom,
        })
    }

    /// `msg-att` of FETCH: `(` name SP value ... `)` (RFC 3501 §7.4.2).
    fn msg_att(&mut self) -> Result<Vec<(String, Value)>, Error> {
        self.expect(b'(', "'(' before the FETCH items")?;
        let mut items = Vec::new();
        while self.peek() != Some(b')') {
            if !items.is_empty() {
                self.space()?;
            }
            self.count()?;
            let name = self.item_name()?;
            self.space()?;
            let value = match is_message_text(&name) && self.sink.is_some() {
                true => self.streamed_value()?,
                false => self.value(1)?,
            };
            items.push((name, value));
        }
        self.pos += 1;
        Ok(items)
    }

    /// A FETCH item name with its section and origin:
    /// `BODY[HEADER.FIELDS (SUBJECT FROM)]<0>`.
    fn item_name(&mut self) -> Result<String, Error> {
        let start = self.pos;
        self.atom_where(|b| is_atom_char(b) && b != b'[', "a FETCH item name")?;
        if self.peek() == Some(b'[') {
            self.section()?;
        }
        Ok(String::from_utf8_lossy(&self.line[start..self.pos]).into_owned())
    }

    /// `[section]` and an optional `<origin>`, kept as text: anything up
    /// to the closing bracket, quoted strings skipped whole.
    fn section(&mut self) -> Result<(), Error> {
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(self.error("']' closing a section")),
                Some(b']') => break,
                Some(b'"') => {
                    self.quoted()?;
                }
                Some(_) => self.pos += 1,
            }
        }
        self.pos += 1;
        if self.peek() == Some(b'<') {
            self.pos += 1;
            self.number()?;
            self.expect(b'>', "'>' closing an origin")?;
        }
        Ok(())
    }

    /// The value of a message text item, written to the sink when it is a
    /// string.
    fn streamed_value(&mut self) -> Result<Value, Error> {
        match self.peek() {
            Some(b'{') | Some(b'~') => self.literal(true),
            Some(b'"') => {
                let text = self.quoted()?;
                self.write_sink(&text)?;
                Ok(Value::Streamed(text.len() as u64))
            }
            _ => self.value(1),
        }
    }

    /// Writes quoted message text to the sink.
    fn write_sink(&mut self, data: &[u8]) -> Result<(), Error> {
        if let Some(sink) = self.sink.as_mut() {
            sink.write_all(data)
                .map_err(|e| Error::from_io(ErrorKind::LocalIo, "storing a message", &e))?;
        }
        Ok(())
    }

    /// Any value: list, string, NIL, number or atom.
    fn value(&mut self, depth: usize) -> Result<Value, Error> {
        self.count()?;
        match self.peek() {
            Some(b'(') => self.list(depth + 1),
            Some(b'"') => Ok(Value::String(self.quoted()?)),
            Some(b'{') | Some(b'~') => self.literal(false),
            Some(b) if b.is_ascii_digit() => self.number_or_atom(),
            Some(_) => self.atom_value(),
            None => Err(self.error("a value")),
        }
    }

    /// `(` values separated by spaces `)`, no deeper than the bound.
    fn list(&mut self, depth: usize) -> Result<Value, Error> {
        if depth > self.limits.max_depth {
            return Err(self.error(&format!(
                "lists nested at most {} deep",
                self.limits.max_depth
            )));
        }
        self.pos += 1;
        let mut values: Vec<Value> = Vec::new();
        while self.peek() != Some(b')') {
            if let Some(last) = values.last() {
                self.separator(matches!(last, Value::List(_)))?;
            }
            values.push(self.value(depth)?);
        }
        self.pos += 1;
        Ok(Value::List(values))
    }

    /// The space between two list elements, which RFC 3501 §9 leaves out
    /// between lists (`1*address`, `1*body`): optional after a list or
    /// before one.
    fn separator(&mut self, after_list: bool) -> Result<(), Error> {
        match self.peek() {
            Some(b' ') => self.pos += 1,
            Some(b'(') if after_list => {}
            _ => return self.space(),
        }
        Ok(())
    }

    /// Digits: a number, unless atom characters follow (`1a`).
    fn number_or_atom(&mut self) -> Result<Value, Error> {
        let start = self.pos;
        self.skip_where(|b| is_atom_char(b) && b != b'[', "a value")?;
        let digits_only =
            self.line[start..self.pos].iter().all(u8::is_ascii_digit) && self.peek() != Some(b'[');
        self.pos = start;
        match digits_only {
            true => Ok(Value::Number(self.number()?)),
            false => self.atom_value(),
        }
    }

    /// An atom (with a section and origin, as in `BODY[1]<0>`), a flag, or
    /// NIL.
    fn atom_value(&mut self) -> Result<Value, Error> {
        let start = self.pos;
        if self.peek() == Some(b'\\') {
            return Ok(Value::Atom(self.flag()?));
        }
        self.skip_where(|b| is_atom_char(b) && b != b'[', "a value")?;
        if self.peek() == Some(b'[') {
            self.section()?;
        }
        let atom = &self.line[start..self.pos];
        Ok(match atom.eq_ignore_ascii_case(b"NIL") {
            true => Value::Nil,
            false => Value::Atom(String::from_utf8_lossy(atom).into_owned()),
        })
    }

    /// `astring`: an atom (`]` allowed), a quoted string or a literal.
    fn astring(&mut self) -> Result<Vec<u8>, Error> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => match self.literal(false)? {
                Value::String(bytes) => Ok(bytes),
                _ => Err(self.error("a string")),
            },
            _ => {
                let start = self.pos;
                self.atom_where(|b| is_atom_char(b) || b == b']', "a string")?;
                Ok(self.line[start..self.pos].to_vec())
            }
        }
    }

    /// Whether `NIL` comes next (then consumed).
    fn nil(&mut self) -> bool {
        let rest = &self.line[self.pos..];
        let nil = rest.len() >= 3
            && rest[..3].eq_ignore_ascii_case(b"NIL")
            && rest.get(3).is_none_or(|&b| !is_atom_char(b));
        if nil {
            self.pos += 3;
        }
        nil
    }

    /// `quoted` (RFC 3501 §4.3): only `\"` and `\\` are escapes.
    fn quoted(&mut self) -> Result<Vec<u8>, Error> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let rest = &self.line[self.pos..];
            let Some(at) = memchr::memchr2(b'"', b'\\', rest) else {
                self.pos = self.line.len();
                return Err(self.error("'\"' ending a quoted string"));
            };
            out.extend_from_slice(&rest[..at]);
            self.pos += at;
            if rest[at] == b'"' {
                break;
            }
            self.pos += 1;
            match self.peek() {
                Some(c @ (b'"' | b'\\')) => out.push(c),
                _ => return Err(self.error("'\\\"' or '\\\\' in a quoted string")),
            }
            self.pos += 1;
        }
        self.pos += 1;
        Ok(out)
    }

    /// `literal` (`{n}` CRLF octets; `~{n}` for RFC 3516 `literal8`): the
    /// marker must end the line; the octets are read with a bound, kept or
    /// written to the sink, and the response goes on with the next line.
    fn literal(&mut self, stream: bool) -> Result<Value, Error> {
        if self.peek() == Some(b'~') {
            self.pos += 1;
        }
        self.expect(b'{', "'{' opening a literal")?;
        let len = self.number()?;
        self.expect(b'}', "'}' closing a literal size")?;
        if !self.at_end() {
            return Err(self.error("the end of the line after a literal size"));
        }
        let value = match stream {
            true => self.stream_literal(len)?,
            false => self.collect_literal(len)?,
        };
        self.literals += 1;
        self.line = self.wire.read_line()?;
        self.pos = 0;
        Ok(value)
    }

    /// Reads a literal into memory, within both bounds.
    fn collect_literal(&mut self, len: u64) -> Result<Value, Error> {
        let limits = self.limits;
        let total = self.collected.saturating_add(len);
        if len > limits.max_literal || total > limits.max_collected {
            return Err(self.too_long(len, limits.max_literal.min(limits.max_collected)));
        }
        self.collected = total;
        let mut data = Vec::with_capacity(usize::try_from(len.min(1 << 16)).unwrap_or(0));
        self.wire.read_data(len, &mut data)?;
        Ok(Value::String(data))
    }

    /// Reads a literal into the sink, within its bound.
    fn stream_literal(&mut self, len: u64) -> Result<Value, Error> {
        if len > self.limits.max_streamed {
            return Err(self.too_long(len, self.limits.max_streamed));
        }
        match self.sink.as_mut() {
            Some(sink) => self.wire.read_data(len, &mut **sink)?,
            None => return self.collect_literal(len),
        }
        Ok(Value::Streamed(len))
    }

    /// `resp-text`: an optional `[code]` and the text (RFC 3501 §9; an
    /// empty text is accepted, as servers send it).
    fn resp_text(&mut self) -> Result<(Option<Code>, String), Error> {
        if self.at_end() {
            return Ok((None, String::new()));
        }
        self.space()?;
        let code = match self.peek() {
            Some(b'[') => Some(self.code()?),
            _ => None,
        };
        if code.is_some() {
            self.skip_space();
        }
        Ok((code, self.text()))
    }

    /// `resp-text-code` between brackets.
    fn code(&mut self) -> Result<Code, Error> {
        self.pos += 1;
        let name = self
            .atom_where(is_atom_char, "a response code name")?
            .to_ascii_uppercase();
        let code = match name.as_str() {
            "ALERT" => Code::Alert,
            "PARSE" => Code::Parse,
            "READ-ONLY" => Code::ReadOnly,
            "READ-WRITE" => Code::ReadWrite,
            "TRYCREATE" => Code::TryCreate,
            "CAPABILITY" => Code::Capability(self.code_atoms()?),
            "PERMANENTFLAGS" => {
                self.space()?;
                Code::PermanentFlags(self.flag_list()?)
            }
            "BADCHARSET" => Code::BadCharset(self.charsets()?),
            "UIDNEXT" => Code::UidNext(self.code_number()?),
            "UIDVALIDITY" => Code::UidValidity(self.code_number()?),
            "UNSEEN" => Code::Unseen(self.code_number()?),
            "REFERRAL" => Code::Referral(self.code_text()?.unwrap_or_default()),
            _ => Code::Other(name, self.code_text()?),
        };
        self.expect(b']', "']' closing the response code")?;
        Ok(code)
    }

    /// The capability names of a CAPABILITY code.
    fn code_atoms(&mut self) -> Result<Vec<String>, Error> {
        let mut atoms = Vec::new();
        while self.peek() == Some(b' ') {
            self.pos += 1;
            if self.peek() == Some(b']') {
                break;
            }
            self.count()?;
            atoms.push(self.atom_where(is_atom_char, "a capability name")?);
        }
        Ok(atoms)
    }

    /// The optional `(charset ...)` of BADCHARSET.
    fn charsets(&mut self) -> Result<Vec<Vec<u8>>, Error> {
        let mut charsets = Vec::new();
        if self.peek() != Some(b' ') {
            return Ok(charsets);
        }
        self.pos += 1;
        self.expect(b'(', "'(' before the charsets")?;
        while self.peek() != Some(b')') {
            if !charsets.is_empty() {
                self.space()?;
            }
            self.count()?;
            charsets.push(self.astring()?);
        }
        self.pos += 1;
        Ok(charsets)
    }

    /// SP and a 32-bit number in a code.
    fn code_number(&mut self) -> Result<u32, Error> {
        self.space()?;
        let n = self.number()?;
        u32::try_from(n).map_err(|_| self.error("a number of 32 bits in the response code"))
    }

    /// The optional text of a code, up to `]`.
    fn code_text(&mut self) -> Result<Option<String>, Error> {
        if self.peek() != Some(b' ') {
            return Ok(None);
        }
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_some_and(|b| b != b']') {
            self.pos += 1;
        }
        Ok(Some(
            String::from_utf8_lossy(&self.line[start..self.pos]).into_owned(),
        ))
    }

    /// The rest of the line as text.
    fn text(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.line[self.pos..]).into_owned();
        self.pos = self.line.len();
        text
    }

    /// An upper-cased keyword (atom characters).
    fn keyword(&mut self) -> Result<String, Error> {
        Ok(self
            .atom_where(is_atom_char, "a keyword")?
            .to_ascii_uppercase())
    }

    /// One or more octets satisfying `allowed`, as text.
    fn atom_where(&mut self, allowed: impl Fn(u8) -> bool, what: &str) -> Result<String, Error> {
        let start = self.pos;
        self.skip_where(allowed, what)?;
        Ok(String::from_utf8_lossy(&self.line[start..self.pos]).into_owned())
    }

    /// Moves past a run of at least one `allowed` octet.
    fn skip_where(&mut self, allowed: impl Fn(u8) -> bool, what: &str) -> Result<(), Error> {
        let run = self.line[self.pos.min(self.line.len())..]
            .iter()
            .take_while(|&&b| allowed(b))
            .count();
        match run {
            0 => Err(self.error(what)),
            _ => {
                self.pos += run;
                Ok(())
            }
        }
    }

    /// `number`: decimal digits, at most 64 bits.
    fn number(&mut self) -> Result<u64, Error> {
        let start = self.pos;
        let mut n: u64 = 0;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
                .ok_or_else(|| self.error("a number of at most 64 bits"))?;
            self.pos += 1;
        }
        match self.pos > start {
            true => Ok(n),
            false => Err(self.error("a number")),
        }
    }

    /// Counts one more value against the bound.
    fn count(&mut self) -> Result<(), Error> {
        self.items += 1;
        match self.items > self.limits.max_items {
            true => Err(self.error(&format!(
                "at most {} values in one response",
                self.limits.max_items
            ))),
            false => Ok(()),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.line.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.line.len()
    }

    fn space(&mut self) -> Result<(), Error> {
        self.expect(b' ', "a space")
    }

    fn skip_space(&mut self) {
        if self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), Error> {
        match self.peek() == Some(byte) {
            true => {
                self.pos += 1;
                Ok(())
            }
            false => Err(self.error(what)),
        }
    }

    /// The whole line must have been read.
    fn end(&self) -> Result<(), Error> {
        match self.at_end() {
            true => Ok(()),
            false => Err(self.error("the end of the response")),
        }
    }

    /// 76: `expected` was not found; the error shows where.
    fn error(&self, expected: &str) -> Error {
        let from = self.pos.saturating_sub(40);
        let to = (self.pos + 40).min(self.line.len());
        let before = String::from_utf8_lossy(&self.line[from..self.pos.min(to)]);
        let after = String::from_utf8_lossy(&self.line[self.pos.min(to)..to]);
        let found = match self.peek() {
            Some(_) => "found",
            None => "found the end of the line",
        };
        Error::protocol(format!(
            "malformed IMAP response: expected {expected}, {found} at {:?} ^ {:?}",
            crate::output::printable(&before),
            crate::output::printable(&after),
        ))
    }

    /// 76: a literal over the bound, refused before reading.
    fn too_long(&self, len: u64, max: u64) -> Error {
        Error::protocol(format!(
            "the server announced a literal of {len} octets, more than the {max} allowed"
        ))
    }
}

/// `ATOM-CHAR` (RFC 3501 §9): any CHAR but `(){ %*"\]`, space and
/// controls. 8-bit octets are let through (kept as they are).
fn is_atom_char(b: u8) -> bool {
    b > b' ' && b != 0x7f && !b"(){%*\"\\]".contains(&b)
}

/// A FETCH item carrying message text, which goes to the sink.
fn is_message_text(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("BODY[")
        || upper.starts_with("BINARY[")
        || matches!(upper.as_str(), "RFC822" | "RFC822.HEADER" | "RFC822.TEXT")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitStatus;
    use crate::imap::literal::copy_literal;
    use std::io::{self, BufRead};

    /// A server stream read exactly as the connection reads it: a line
    /// without its CRLF, or n octets.
    struct Script {
        server: io::Cursor<Vec<u8>>,
    }

    impl Script {
        fn new(server: &[u8]) -> Script {
            Script {
                server: io::Cursor::new(server.to_vec()),
            }
        }

        fn unread(&self) -> usize {
            self.server.get_ref().len() - self.server.position() as usize
        }
    }

    impl ImapWire for Script {
        fn send_line(&mut self, _line: &str, _shown: &str) -> Result<(), Error> {
            Ok(())
        }

        fn send_literal(&mut self, _data: &[u8], _shown: &str) -> Result<(), Error> {
            Ok(())
        }

        fn read_line(&mut self) -> Result<Vec<u8>, Error> {
            let mut line = Vec::new();
            self.server.read_until(b'\n', &mut line).unwrap();
            if !line.ends_with(b"\r\n") {
                return Err(Error::new(ErrorKind::ConnectionLost, "connection closed"));
            }
            line.truncate(line.len() - 2);
            Ok(line)
        }

        fn read_data(&mut self, len: u64, sink: &mut dyn Write) -> Result<(), Error> {
            copy_literal(&mut self.server, len, sink)
        }
    }

    /// Every response in `stream`, which must be read to its end.
    fn all(stream: &[u8]) -> Vec<Response> {
        let mut script = Script::new(stream);
        let mut responses = Vec::new();
        while script.unread() > 0 {
            responses.push(read_response(&mut script, &Limits::default()).unwrap());
        }
        responses
    }

    fn one(stream: &[u8]) -> Response {
        let mut responses = all(stream);
        assert_eq!(responses.len(), 1, "{responses:?}");
        responses.remove(0)
    }

    fn untagged(stream: &[u8]) -> Untagged {
        match one(stream) {
            Response::Untagged(data) => data,
            other => panic!("not untagged: {other:?}"),
        }
    }

    fn fails(stream: &[u8], limits: &Limits) -> Error {
        let mut script = Script::new(stream);
        let error = read_response(&mut script, limits).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol, "{error}");
        error
    }

    fn atoms(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn s(bytes: &[u8]) -> Value {
        Value::String(bytes.to_vec())
    }

    fn atom(text: &str) -> Value {
        Value::Atom(text.to_owned())
    }

    #[test]
    fn dovecot_greeting_with_capabilities() {
        let greeting = b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE \
LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready.\r\n";
        assert_eq!(
            untagged(greeting),
            Untagged::Condition {
                condition: Condition::Ok,
                code: Some(Code::Capability(atoms(&[
                    "IMAP4rev1",
                    "SASL-IR",
                    "LOGIN-REFERRALS",
                    "ID",
                    "ENABLE",
                    "IDLE",
                    "LITERAL+",
                    "STARTTLS",
                    "AUTH=PLAIN"
                ]))),
                text: "Dovecot ready.".to_owned(),
            }
        );
        assert!(matches!(
            untagged(b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n"),
            Untagged::Condition {
                condition: Condition::Preauth,
                ..
            }
        ));
        assert_eq!(
            untagged(b"* BYE\r\n"),
            Untagged::Condition {
                condition: Condition::Bye,
                code: None,
                text: String::new()
            }
        );
    }

    #[test]
    fn tagged_completions_and_continuations() {
        assert_eq!(
            one(b"a1 OK [CAPABILITY IMAP4rev1 ENABLE] Logged in\r\n"),
            Response::Tagged {
                tag: "a1".to_owned(),
                status: Completion::Ok,
                code: Some(Code::Capability(atoms(&["IMAP4rev1", "ENABLE"]))),
                text: "Logged in".to_owned(),
            }
        );
        assert_eq!(
            one(b"A2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
            Response::Tagged {
                tag: "A2".to_owned(),
                status: Completion::No,
                code: Some(Code::Other("AUTHENTICATIONFAILED".to_owned(), None)),
                text: "Authentication failed.".to_owned(),
            }
        );
        assert_eq!(
            one(b"A3 NO [NONEXISTENT] Mailbox doesn't exist: Nope\r\n"),
            Response::Tagged {
                tag: "A3".to_owned(),
                status: Completion::No,
                code: Some(Code::Other("NONEXISTENT".to_owned(), None)),
                text: "Mailbox doesn't exist: Nope".to_owned(),
            }
        );
        assert!(matches!(
            one(b"A4 bad Error in IMAP command\r\n"),
            Response::Tagged {
                status: Completion::Bad,
                ..
            }
        ));
        assert_eq!(
            one(b"+ Ready for literal data\r\n"),
            Response::Continuation {
                text: "Ready for literal data".to_owned()
            }
        );
        assert_eq!(
            one(b"+\r\n"),
            Response::Continuation {
                text: String::new()
            }
        );
    }

    #[test]
    fn list_lines_with_flags_and_every_name_form() {
        let stream = b"* LIST (\\HasNoChildren) \".\" INBOX\r\n\
* LIST (\\HasNoChildren \\Sent) \".\" Sent\r\n\
* LIST (\\HasChildren) \"/\" \"a \\\"quoted\\\" name\"\r\n\
* LIST (\\HasNoChildren) \"/\" {10}\r\nback\\slash\r\n\
* LIST (\\Noselect) NIL \"\"\r\n\
* LSUB () \".\" inbox\r\n\
* LIST () \"\\\\\" Entw&APw-rfe\r\n\
* LIST (\\HasNoChildren) \"/\" \"caf\xc3\xa9 \xff\"\r\n\
* LIST () \"/\" a]b\r\n";
        let lists: Vec<_> = all(stream)
            .into_iter()
            .map(|r| match r {
                Response::Untagged(Untagged::List {
                    kind,
                    flags,
                    delimiter,
                    name,
                    extended,
                }) => {
                    assert!(extended.is_empty());
                    (kind, flags, delimiter, name)
                }
                other => panic!("{other:?}"),
            })
            .collect();
        let list = |flags: &[&str], d: Option<char>, name: &[u8]| {
            (ListKind::List, atoms(flags), d, name.to_vec())
        };
        assert_eq!(
            lists,
            [
                list(&["\\HasNoChildren"], Some('.'), b"INBOX"),
                list(&["\\HasNoChildren", "\\Sent"], Some('.'), b"Sent"),
                list(&["\\HasChildren"], Some('/'), b"a \"quoted\" name"),
                list(&["\\HasNoChildren"], Some('/'), b"back\\slash"),
                list(&["\\Noselect"], None, b""),
                (ListKind::Lsub, vec![], Some('.'), b"INBOX".to_vec()),
                list(&[], Some('\\'), b"Entw&APw-rfe"),
                list(&["\\HasNoChildren"], Some('/'), b"caf\xc3\xa9 \xff"),
                list(&[], Some('/'), b"a]b"),
            ]
        );
    }

    #[test]
    fn extended_list_data_is_kept() {
        let data =
            untagged(b"* LIST (\\HasChildren) \"/\" Foo (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n");
        let Untagged::List { extended, .. } = data else {
            panic!("{data:?}")
        };
        assert_eq!(
            extended,
            [Value::List(vec![
                s(b"CHILDINFO"),
                Value::List(vec![s(b"SUBSCRIBED")])
            ])]
        );
    }

    #[test]
    fn status_and_selection_data() {
        assert_eq!(
            untagged(
                b"* STATUS \"a \\\"quoted\\\" name\" (MESSAGES 231 UNSEEN 3 UIDNEXT 44292)\r\n"
            ),
            Untagged::Status {
                mailbox: b"a \"quoted\" name".to_vec(),
                items: vec![
                    ("MESSAGES".to_owned(), 231),
                    ("UNSEEN".to_owned(), 3),
                    ("UIDNEXT".to_owned(), 44292)
                ],
            }
        );
        let examine = b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n\
* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n\
* 172 EXISTS\r\n\
* 1 RECENT\r\n\
* OK [UNSEEN 12] Message 12 is first unseen\r\n\
* OK [UIDVALIDITY 3857529045] UIDs valid\r\n\
* OK [UIDNEXT 4392] Predicted next UID\r\n\
* OK [HIGHESTMODSEQ 7] Highest\r\n\
* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n\
A142 OK [READ-ONLY] Examine completed (0.001 + 0.000 secs).\r\n";
        let responses = all(examine);
        let codes: Vec<_> = responses
            .iter()
            .filter_map(|r| match r {
                Response::Untagged(Untagged::Condition { code, .. }) => code.clone(),
                Response::Tagged { code, .. } => code.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(
            codes,
            [
                Code::PermanentFlags(vec![]),
                Code::Unseen(12),
                Code::UidValidity(3857529045),
                Code::UidNext(4392),
                Code::Other("HIGHESTMODSEQ".to_owned(), Some("7".to_owned())),
                Code::PermanentFlags(atoms(&["\\Deleted", "\\Seen", "\\*"])),
                Code::ReadOnly,
            ]
        );
        assert_eq!(
            responses[0],
            Response::Untagged(Untagged::Flags(atoms(&[
                "\\Answered",
                "\\Flagged",
                "\\Deleted",
                "\\Seen",
                "\\Draft",
                "$Forwarded"
            ])))
        );
        assert_eq!(responses[2], Response::Untagged(Untagged::Exists(172)));
        assert_eq!(responses[3], Response::Untagged(Untagged::Recent(1)));
    }

    #[test]
    fn other_codes_with_text() {
        let Response::Tagged { code, .. } = one(b"A1 NO [REFERRAL imap://x/INBOX] go away\r\n")
        else {
            panic!()
        };
        assert_eq!(code, Some(Code::Referral("imap://x/INBOX".to_owned())));
        let Response::Tagged { code, .. } =
            one(b"A1 NO [BADCHARSET (UTF-8 \"US-ASCII\")] charset\r\n")
        else {
            panic!()
        };
        assert_eq!(
            code,
            Some(Code::BadCharset(vec![
                b"UTF-8".to_vec(),
                b"US-ASCII".to_vec()
            ]))
        );
        let Response::Tagged { code, text, .. } = one(b"A1 OK [READ-WRITE]\r\n") else {
            panic!()
        };
        assert_eq!((code, text), (Some(Code::ReadWrite), String::new()));
    }

    #[test]
    fn search_enabled_expunge_and_capability() {
        assert_eq!(
            untagged(b"* SEARCH 2 84 882\r\n"),
            Untagged::Search(vec![2, 84, 882])
        );
        assert_eq!(untagged(b"* SEARCH\r\n"), Untagged::Search(vec![]));
        assert_eq!(
            untagged(b"* ENABLED UTF8=ACCEPT\r\n"),
            Untagged::Enabled(atoms(&["UTF8=ACCEPT"]))
        );
        assert_eq!(untagged(b"* 44 EXPUNGE\r\n"), Untagged::Expunge(44));
        assert_eq!(
            untagged(b"* CAPABILITY IMAP4rev1 AUTH=GSSAPI \r\n"),
            Untagged::Capability(atoms(&["IMAP4rev1", "AUTH=GSSAPI"]))
        );
        assert_eq!(
            untagged(b"* OK [CAPABILITY IMAP4rev1 ] hi\r\n"),
            Untagged::Condition {
                condition: Condition::Ok,
                code: Some(Code::Capability(atoms(&["IMAP4rev1"]))),
                text: "hi".to_owned()
            }
        );
    }

    #[test]
    fn fetch_of_flags_and_uid() {
        assert_eq!(
            untagged(b"* 3 FETCH (UID 7 FLAGS (\\Seen))\r\n"),
            Untagged::Fetch {
                seq: 3,
                items: vec![
                    ("UID".to_owned(), Value::Number(7)),
                    ("FLAGS".to_owned(), Value::List(vec![atom("\\Seen")])),
                ],
            }
        );
        let Untagged::Fetch { items, .. } =
            untagged(b"* 4 FETCH (FLAGS () RFC822.SIZE 4286 INTERNALDATE \"17-Jul-1996 02:44:25 -0700\")\r\n")
        else {
            panic!()
        };
        assert_eq!(
            fetch_item(&items, "flags").unwrap().as_atoms(),
            Some(vec![])
        );
        assert_eq!(
            fetch_item(&items, "rfc822.size").and_then(Value::as_number),
            Some(4286)
        );
        assert_eq!(
            fetch_item(&items, "INTERNALDATE").and_then(Value::as_bytes),
            Some(&b"17-Jul-1996 02:44:25 -0700"[..])
        );
    }

    #[test]
    fn fetch_of_an_envelope_with_nil_and_literals() {
        let stream = b"* 12 FETCH (UID 99 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \
{30}\r\nIMAP4rev1 WG mtg \"summary\" \\ x \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((NIL NIL \"gray\" \"cac.washington.edu\")) NIL \
((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")\
(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL {10}\r\n<B27397@x>))\r\n";
        let Untagged::Fetch { seq, items } = untagged(stream) else {
            panic!()
        };
        assert_eq!(seq, 12);
        let envelope = Envelope::from_value(fetch_item(&items, "ENVELOPE").unwrap()).unwrap();
        assert_eq!(
            envelope.subject.as_deref(),
            Some(&b"IMAP4rev1 WG mtg \"summary\" \\ x"[..])
        );
        assert_eq!(envelope.from[0].name.as_deref(), Some(&b"Terry Gray"[..]));
        assert_eq!(envelope.sender[0].name, None);
        assert!(envelope.reply_to.is_empty());
        assert_eq!(envelope.cc[1].mailbox.as_deref(), Some(&b"KLENSIN"[..]));
        assert!(envelope.bcc.is_empty());
        assert_eq!(envelope.in_reply_to, None);
        assert_eq!(envelope.message_id.as_deref(), Some(&b"<B27397@x>"[..]));
        assert!(Envelope::from_value(&Value::Nil).is_err());
    }

    #[test]
    fn fetch_of_a_multipart_bodystructure() {
        let stream = b"* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") \
NIL NIL \"7BIT\" 1152 23 NIL NIL NIL NIL)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \
\"NAME\" \"cc.diff\") \"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \
\"BASE64\" 4554 73 NIL (\"attachment\" (\"filename\" \"cc.diff\")) NIL NIL) \"MIXED\" \
(\"BOUNDARY\" \"x\") NIL NIL NIL))\r\n";
        let Untagged::Fetch { items, .. } = untagged(stream) else {
            panic!()
        };
        let structure = fetch_item(&items, "BODYSTRUCTURE")
            .and_then(Value::as_list)
            .unwrap();
        assert_eq!(structure.len(), 7);
        let first = structure[0].as_list().unwrap();
        assert_eq!(first[0], s(b"TEXT"));
        assert_eq!(first[6], Value::Number(1152));
        assert_eq!(first[7], Value::Number(23));
        let second = structure[1].as_list().unwrap();
        assert_eq!(second[5], s(b"BASE64"));
        assert_eq!(
            second[9].as_list().unwrap()[0],
            s(b"attachment"),
            "{second:?}"
        );
        assert_eq!(structure[2], s(b"MIXED"));
    }

    #[test]
    fn section_names_keep_their_section_and_origin() {
        let stream = b"* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT FROM)] {22}\r\n\
Subject: hi\r\nFrom: x\r\n UID 5 BODY[1]<0> \"abc\" BODY[] NIL BINARY[1] ~{2}\r\n\x00\x01)\r\n";
        let Untagged::Fetch { items, .. } = untagged(stream) else {
            panic!()
        };
        let names: Vec<&str> = items.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "BODY[HEADER.FIELDS (SUBJECT FROM)]",
                "UID",
                "BODY[1]<0>",
                "BODY[]",
                "BINARY[1]"
            ]
        );
        assert_eq!(
            fetch_item(&items, "body[header.fields (subject from)]").and_then(Value::as_bytes),
            Some(&b"Subject: hi\r\nFrom: x\r\n"[..])
        );
        assert_eq!(items[3].1, Value::Nil);
        assert_eq!(items[4].1, s(b"\x00\x01"));
    }

    #[test]
    fn a_large_body_streams_to_the_sink() {
        let body: Vec<u8> = (0..20u32 << 20).map(|i| (i % 251) as u8).collect();
        let mut stream = format!("* 1 FETCH (UID 9 BODY[] {{{}}}\r\n", body.len()).into_bytes();
        stream.extend_from_slice(&body);
        stream.extend_from_slice(b" FLAGS (\\Seen))\r\na1 OK done\r\n");
        let mut script = Script::new(&stream);
        let limits = Limits {
            max_literal: 1024,
            ..Limits::default()
        };
        let mut sink = Vec::new();
        let response = read_response_to(&mut script, &limits, &mut sink).unwrap();
        assert!(sink == body);
        let Response::Untagged(Untagged::Fetch { items, .. }) = response else {
            panic!()
        };
        assert_eq!(items[1].1, Value::Streamed(body.len() as u64));
        assert_eq!(items[2].1, Value::List(vec![atom("\\Seen")]));
        // Without a sink the same literal is over the bound.
        let mut script = Script::new(&stream);
        let error = read_response(&mut script, &limits).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol);
        assert_eq!(
            script.unread(),
            stream.len() - stream.iter().position(|&b| b == b'\n').unwrap() - 1
        );
    }

    #[test]
    fn a_quoted_body_goes_to_the_sink_too() {
        let mut script = Script::new(b"* 1 FETCH (BODY[TEXT] \"hi\" RFC822.SIZE 2)\r\n");
        let mut sink = Vec::new();
        let response = read_response_to(&mut script, &Limits::default(), &mut sink).unwrap();
        assert_eq!(sink, b"hi");
        let Response::Untagged(Untagged::Fetch { items, .. }) = response else {
            panic!()
        };
        assert_eq!(items[0].1, Value::Streamed(2));
    }

    #[test]
    fn rfc_3501_section_8_sample() {
        let stream = b"* OK IMAP4rev1 Service Ready\r\n\
a001 OK LOGIN completed\r\n\
* 18 EXISTS\r\n\
* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n\
* 2 RECENT\r\n\
* OK [UNSEEN 17] Message 17 is the first unseen message\r\n\
* OK [UIDVALIDITY 3857529045] UIDs valid\r\n\
a002 OK [READ-WRITE] SELECT completed\r\n\
* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" \
RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \
\"IMAP4rev1 WG mtg summary and minutes\" \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((NIL NIL \"imap\" \"cac.washington.edu\")) \
((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")\
(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \
\"<B27397-0100000@cac.washington.edu>\") \
BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n\
a003 OK FETCH completed\r\n\
* 12 FETCH (BODY[HEADER] {342}\r\n"
            .to_vec();
        let mut stream = stream;
        stream.extend_from_slice(&[b'x'; 342]);
        stream.extend_from_slice(b")\r\na004 OK FETCH completed\r\n* BYE IMAP4rev1 server terminating connection\r\na005 OK LOGOUT completed\r\n");
        let responses = all(&stream);
        assert_eq!(responses.len(), 14);
        let Response::Untagged(Untagged::Fetch { items, .. }) = &responses[8] else {
            panic!("{:?}", responses[8])
        };
        let envelope = Envelope::from_value(fetch_item(items, "ENVELOPE").unwrap()).unwrap();
        assert_eq!(envelope.to[0].mailbox.as_deref(), Some(&b"imap"[..]));
        let Response::Untagged(Untagged::Fetch { items, .. }) = &responses[10] else {
            panic!()
        };
        assert_eq!(items[0].1.as_bytes().map(<[u8]>::len), Some(342));
    }

    #[test]
    fn unknown_data_is_kept() {
        assert_eq!(
            untagged(b"* NAMESPACE ((\"\" \".\")) NIL NIL\r\n"),
            Untagged::Other {
                name: "NAMESPACE".to_owned(),
                rest: Value::List(vec![
                    Value::List(vec![Value::List(vec![s(b""), s(b".")])]),
                    Value::Nil,
                    Value::Nil
                ])
            }
        );
        assert_eq!(
            untagged(b"* 5 XYZZY 1 a\r\n"),
            Untagged::Other {
                name: "XYZZY".to_owned(),
                rest: Value::List(vec![Value::Number(5), Value::Number(1), atom("a")])
            }
        );
        assert_eq!(
            untagged(b"* XAPPLE text (with \"unbalanced\r\n"),
            Untagged::Other {
                name: "XAPPLE".to_owned(),
                rest: Value::List(vec![s(b"text (with \"unbalanced")])
            }
        );
        assert_eq!(
            untagged(b"* ESEARCH (TAG \"a1\") UID COUNT 3 ALL 1:3\r\n"),
            Untagged::Other {
                name: "ESEARCH".to_owned(),
                rest: Value::List(vec![
                    Value::List(vec![atom("TAG"), s(b"a1")]),
                    atom("UID"),
                    atom("COUNT"),
                    Value::Number(3),
                    atom("ALL"),
                    atom("1:3")
                ])
            }
        );
    }

    /// A whole session with Dovecot 2.3.19 (LOGIN, LIST with special-use
    /// and LIST-STATUS, LSUB, STATUS, EXAMINE, FETCH of ENVELOPE with
    /// literals and BODYSTRUCTURE, UID FETCH of sections, SEARCH, NAMESPACE,
    /// ID, ENABLE, a missing mailbox, LOGOUT), as it came off the wire.
    const DOVECOT_SESSION: &[u8] =
        include_bytes!("../../tests/fuzz-regressions/imap_response/dovecot-session");

    #[test]
    fn a_real_dovecot_session() {
        let responses = all(DOVECOT_SESSION);
        assert_eq!(responses.len(), 72);
        let names: Vec<Vec<u8>> = responses
            .iter()
            .filter_map(|r| match r {
                Response::Untagged(Untagged::List {
                    kind: ListKind::List,
                    delimiter: Some('/'),
                    name,
                    ..
                }) => Some(name.clone()),
                _ => None,
            })
            .take(10)
            .collect();
        assert!(names.contains(&b"a \"quoted\" name".to_vec()), "{names:?}");
        assert!(names.contains(&b"back\\slash".to_vec()));
        assert!(names.contains(&b"Entw&APw-rfe".to_vec()));
        assert!(responses.contains(&Response::Untagged(Untagged::List {
            kind: ListKind::List,
            flags: atoms(&["\\HasNoChildren", "\\Sent"]),
            delimiter: Some('/'),
            name: b"Sent".to_vec(),
            extended: vec![],
        })));
        assert!(responses.contains(&Response::Untagged(Untagged::Status {
            mailbox: b"INBOX".to_vec(),
            items: vec![("MESSAGES".to_owned(), 2), ("UNSEEN".to_owned(), 2)],
        })));
        let fetches: Vec<&Vec<(String, Value)>> = responses
            .iter()
            .filter_map(|r| match r {
                Response::Untagged(Untagged::Fetch { items, .. }) => Some(items),
                _ => None,
            })
            .collect();
        assert_eq!(fetches.len(), 6);
        let envelope = Envelope::from_value(fetch_item(fetches[0], "ENVELOPE").unwrap()).unwrap();
        assert_eq!(
            envelope.subject.as_deref(),
            Some(&b"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and \"quotes\" \\ back"[..])
        );
        assert_eq!(
            envelope.to[1].name.as_deref(),
            Some(&b"Bob \"B\" Smith"[..])
        );
        let envelope = Envelope::from_value(fetch_item(fetches[1], "ENVELOPE").unwrap()).unwrap();
        assert_eq!(envelope.date, None);
        assert_eq!(envelope.subject.as_deref(), Some(&b"caf\xc3\xa9 8-bit"[..]));
        let structure = fetch_item(fetches[1], "BODYSTRUCTURE").and_then(Value::as_list);
        assert_eq!(structure.map(<[Value]>::len), Some(7));
        assert_eq!(
            fetch_item(fetches[2], "BODY[1]").and_then(Value::as_bytes),
            Some(&b"Hello Alice.\r\n"[..])
        );
        assert_eq!(
            fetch_item(fetches[3], "BODY[]<0>").and_then(Value::as_bytes),
            Some(&b"From: =?UTF-8?B?w6TD"[..])
        );
        assert_eq!(
            fetch_item(fetches[5], "BODY[]")
                .and_then(Value::as_bytes)
                .map(<[u8]>::len),
            Some(353)
        );
        assert!(matches!(
            responses.last(),
            Some(Response::Tagged {
                status: Completion::Ok,
                ..
            })
        ));
    }

    #[test]
    fn a_real_dovecot_session_with_bodies_streamed() {
        let mut script = Script::new(DOVECOT_SESSION);
        let mut sink = Vec::new();
        let mut streamed = Vec::new();
        while script.unread() > 0 {
            let response = read_response_to(&mut script, &Limits::default(), &mut sink).unwrap();
            if let Response::Untagged(Untagged::Fetch { items, .. }) = response {
                streamed.extend(
                    items
                        .into_iter()
                        .filter(|(_, v)| matches!(v, Value::Streamed(_))),
                );
            }
        }
        let lengths: Vec<u64> = streamed
            .iter()
            .filter_map(|(_, v)| match v {
                Value::Streamed(len) => Some(*len),
                _ => None,
            })
            .collect();
        assert_eq!(lengths, [94, 20, 14, 69, 20, 2, 242, 353]);
        assert_eq!(sink.len(), 94 + 20 + 14 + 69 + 20 + 2 + 242 + 353);
        assert!(sink.ends_with(b"AAECAw==\r\n--b1--\r\n"));
    }

    #[test]
    fn unknown_data_never_hides_a_literal() {
        let limits = Limits {
            max_literal: 4,
            ..Limits::default()
        };
        for stream in [
            &b"* XAPPLE ) {5}\r\n* 1 EXISTS\r\n"[..],
            b"* XAPPLE {5}\r\n* 1 EXISTS\r\n",
            b"* XAPPLE {99999999999999999999}\r\n* 1 EXISTS\r\n",
        ] {
            fails(stream, &limits);
        }
        let mut script = Script::new(b"* XAPPLE {3}\r\nab");
        let error = read_response(&mut script, &limits).unwrap_err();
        assert_eq!(error.status(), ExitStatus::TempFail, "{error}");
    }

    #[test]
    fn malformed_responses_are_protocol_errors() {
        let limits = Limits::default();
        for (stream, names) in [
            (&b"* LIST () \"/\" \"unterminated\r\n"[..], "'\"' ending"),
            (b"* 1 FETCH (UID 1\r\n", "a space"),
            (b"* 1 FETCH (BODY[] {5+}\r\nhello)\r\n", "'}'"),
            (b"* 1 FETCH (BODY[] {5} x\r\nhello)\r\n", "end of the line"),
            (b"* 0 FETCH (UID 1)\r\n", "other than 0"),
            (b"* 4294967296 EXISTS\r\n", "32 bits"),
            (b"* SEARCH 1 x\r\n", "a number"),
            (b"A1 MAYBE\r\n", "OK, NO or BAD"),
            (b"A1 OK [UIDNEXT x] y\r\n", "a number"),
            (b"A1 OK [ALERT\r\n", "']'"),
            (b"* LIST () \"ab\" x\r\n", "one 7-bit"),
            (b"* LIST () \"/\"\r\n", "a space"),
            (b"* STATUS x (MESSAGES)\r\n", "a space"),
            (b"* 1 FETCH (UID 1) extra\r\n", "end of the response"),
            (b"* 1 FETCH (X \"a\\b\")\r\n", "quoted"),
            (b"* 1 FETCH (BODY[1 \"x)\r\n", "'\"' ending"),
            (b"* 1 FETCH (UID 99999999999999999999)\r\n", "64 bits"),
            (b"\r\n", "a tag"),
        ] {
            let error = fails(stream, &limits).to_string();
            assert!(error.contains(names), "{stream:?}: {error}");
        }
    }

    #[test]
    fn error_text_is_printable() {
        let error = fails(b"* 1 FETCH (X \x1b[31m\x07\r\n", &Limits::default()).to_string();
        assert!(
            !error.contains('\x1b') && !error.contains('\x07'),
            "{error}"
        );
    }

    #[test]
    fn a_huge_literal_is_refused_before_reading() {
        for stream in [
            &b"* 1 FETCH (BODY[] {18446744073709551615}\r\nxxxx)\r\n"[..],
            b"* LIST () \"/\" {1025}\r\nxxxx\r\n",
        ] {
            let mut script = Script::new(stream);
            let limits = Limits {
                max_literal: 1024,
                ..Limits::default()
            };
            let error = read_response(&mut script, &limits).unwrap_err();
            assert_eq!(error.status(), ExitStatus::Protocol, "{error}");
            assert!(error.to_string().contains("literal"), "{error}");
            assert!(script.unread() < 12);
            assert!(script.unread() > 4);
        }
        let error = fails(
            b"* 1 FETCH (BODY[] {18446744073709551616}\r\n",
            &Limits::default(),
        );
        assert!(error.to_string().contains("64 bits"), "{error}");
    }

    #[test]
    fn literals_together_are_bounded() {
        let limits = Limits {
            max_literal: 4,
            max_collected: 6,
            ..Limits::default()
        };
        let stream = b"* X {4}\r\nabcd {4}\r\nefgh\r\n";
        let mut script = Script::new(stream);
        let error = read_response(&mut script, &limits).unwrap_err();
        assert!(error.to_string().contains("literal"), "{error}");
    }

    #[test]
    fn deep_nesting_and_many_values_are_bounded() {
        let deep = |n: usize| {
            let mut line = b"* 1 FETCH (X ".to_vec();
            line.extend(std::iter::repeat_n(b'(', n));
            line.extend(std::iter::repeat_n(b')', n));
            line.extend_from_slice(b")\r\n");
            line
        };
        assert!(matches!(untagged(&deep(99)), Untagged::Fetch { .. }));
        let error = fails(&deep(100_000), &Limits::default());
        assert!(error.to_string().contains("nested"), "{error}");
        let limits = Limits {
            max_items: 10,
            ..Limits::default()
        };
        let error = fails(b"* FLAGS (a b c d e f g h i j k l)\r\n", &limits);
        assert!(error.to_string().contains("at most 10"), "{error}");
    }

    #[test]
    fn a_connection_lost_mid_response_is_not_hidden() {
        let mut script = Script::new(b"* 1 FETCH (BODY[] {10}\r\nabc");
        let error = read_response(&mut script, &Limits::default()).unwrap_err();
        assert_eq!(error.status(), ExitStatus::TempFail);
        let mut script = Script::new(b"* 1 FETCH (BODY[] {3}\r\nabc");
        let error = read_response(&mut script, &Limits::default()).unwrap_err();
        assert_eq!(error.status(), ExitStatus::TempFail);
    }
}
