//! An IMAP4rev1 client session (RFC 3501), one method per step, over a
//! [`Connection`]: the greeting, CAPABILITY, STARTTLS (RFC 3501 §6.2.1),
//! the login by AUTHENTICATE (§6.2.2, with SASL-IR, RFC 4959) or LOGIN
//! (§6.2.3), then LIST (with LIST-STATUS, RFC 5819, and SPECIAL-USE,
//! RFC 6154), STATUS, EXAMINE, UID SEARCH, UID FETCH and LOGOUT.
//!
//! The session is read-only by construction: nothing here sends STORE,
//! EXPUNGE, APPEND or SELECT, a folder is opened with EXAMINE only, and a
//! FETCH that would set `\Seen` (`BODY[...]`, `RFC822`, `RFC822.TEXT`) is
//! refused before it is sent (`BODY.PEEK[...]` reads the same text).
//!
//! Each step sends its command with a fresh tag (`a1`, `a2`, ...) and reads
//! untagged data, in whatever order it comes, until its own tagged
//! completion. Nothing depends on response texts: only the completion
//! status, the response codes and the data. Untagged data a step does not
//! use is ignored, never an error; a capability list seen anywhere (a
//! `CAPABILITY` response or code) replaces the one known.
//!
//! Every mailbox name goes as a quoted string or a literal through
//! [`literal::Command`], in modified UTF-7 ([`mailbox_name`]) unless
//! `UTF8=ACCEPT` was enabled ([`Session::enable_utf8`]).

use std::io::Write;

use crate::error::{Error, ErrorKind, ServerReply};
use crate::imap::literal::{self, Literals};
use crate::imap::mailbox_name::{self, NameForm};
use crate::imap::response::{
    Code, Completion, Condition, Limits, ListKind, Response, Untagged, Value, read_response,
    read_response_to,
};
use crate::imap::search::{Query, Token};
use crate::net::connection::Connection;
use crate::net::sasl;
use crate::net::session::{Handshake, Login, TlsAnswer};

/// The most untagged responses kept for one command: a bound on memory
/// whatever the server sends (a LIST of more than 32 768 folders, 16 384
/// with LIST-STATUS counts, is refused; the listings and fetches here ask
/// for at most a few thousand messages a command).
const MAX_UNTAGGED: usize = 1 << 15;

/// The most octets of untagged responses kept for one command (with
/// [`MAX_UNTAGGED`], and [`Limits`] for one response, what keeps a run's
/// memory small whatever the server sends).
const MAX_KEPT_OCTETS: u64 = 24 << 20;

/// The most untagged responses read between two tagged completions, kept
/// or not: a server that sends untagged data forever (`* CAPABILITY`,
/// `* OK`, flag updates) is given up on within a second or so instead of
/// being read for as long as it goes on.
const MAX_RESPONSES: usize = 1 << 17;

/// A folder as LIST gives it (RFC 3501 §7.2.2), with its counts when the
/// server gave them (LIST-STATUS, or STATUS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// The name as sent on the wire (modified UTF-7, or UTF-8): what
    /// [`Session::status`] and [`Session::examine`] take.
    pub name: Vec<u8>,
    /// The name for display, decoded leniently.
    pub display: String,
    /// The wire name breaks its form's rules ([`mailbox_name::display_name`]).
    pub malformed: bool,
    /// The hierarchy delimiter; `None` for a flat name space.
    pub delimiter: Option<char>,
    /// Name attributes as sent: `\HasNoChildren`, `\Noselect`, and the
    /// special uses (`\Sent`, `\Drafts`, RFC 6154).
    pub flags: Vec<String>,
    /// The number of messages, when known.
    pub messages: Option<u64>,
    /// The number of messages without `\Seen`, when known.
    pub unseen: Option<u64>,
}

impl Folder {
    /// Whether the folder can be opened (`\Noselect` and `\NonExistent`,
    /// RFC 5258, cannot).
    pub fn selectable(&self) -> bool {
        !self.flags.iter().any(|flag| {
            flag.eq_ignore_ascii_case("\\Noselect") || flag.eq_ignore_ascii_case("\\NonExistent")
        })
    }
}

/// What EXAMINE tells about a folder (RFC 3501 §6.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examined {
    /// UIDVALIDITY: UIDs are valid as long as it stays the same.
    pub uid_validity: u32,
    /// The number of messages (EXISTS).
    pub exists: u32,
    /// The UID the next message will get, when the server said.
    pub uid_next: Option<u32>,
    /// The flags defined in the folder.
    pub flags: Vec<String>,
}

/// One `* n FETCH` response: the message number and its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The message sequence number.
    pub seq: u32,
    /// The items as sent ([`crate::imap::response::fetch_item`] finds one).
    pub items: Vec<(String, Value)>,
}

/// A tagged completion with the untagged data read before it.
#[derive(Debug)]
struct Done {
    status: Completion,
    code: Option<Code>,
    text: String,
    untagged: Vec<Untagged>,
}

impl Done {
    /// The completion as one line: `NO [UNAVAILABLE] text`.
    fn line(&self) -> String {
        let status = match self.status {
            Completion::Ok => "OK",
            Completion::No => "NO",
            Completion::Bad => "BAD",
        };
        let text = crate::output::printable(&self.text).into_owned();
        match code_name(self.code.as_ref()) {
            Some(code) => format!("{status} [{code}] {text}"),
            None => format!("{status} {text}"),
        }
    }

    /// Ok for a tagged OK; otherwise the error a NO or BAD to `what`
    /// means: `otherwise` for a NO, decided by the response code where
    /// RFC 5530 gives one (`UNAVAILABLE` 75; `AUTHENTICATIONFAILED`,
    /// `AUTHORIZATIONFAILED`, `EXPIRED` 77; `NONEXISTENT` 67), and 76 for
    /// a BAD (the server did not understand the command).
    fn check(self, what: &str, otherwise: ErrorKind) -> Result<Done, Error> {
        let kind = match self.status {
            Completion::Ok => return Ok(self),
            Completion::Bad => ErrorKind::Protocol,
            Completion::No => match code_name(self.code.as_ref()).as_deref() {
                Some("UNAVAILABLE") => ErrorKind::Deferred,
                Some("AUTHENTICATIONFAILED" | "AUTHORIZATIONFAILED" | "EXPIRED") => {
                    ErrorKind::AuthRefused
                }
                Some("NONEXISTENT") => ErrorKind::NoSuchRecipient,
                _ => otherwise,
            },
        };
        let line = self.line();
        let message = format!("{what}: the server said {line}");
        Err(Error::refusal(
            kind,
            ServerReply {
                code: None,
                text: line,
            },
            message,
        ))
    }
}

/// The name of a response code, for messages and for deciding on a
/// failure.
fn code_name(code: Option<&Code>) -> Option<String> {
    Some(match code? {
        Code::Alert => "ALERT".into(),
        Code::Parse => "PARSE".into(),
        Code::TryCreate => "TRYCREATE".into(),
        Code::ReadOnly => "READ-ONLY".into(),
        Code::ReadWrite => "READ-WRITE".into(),
        Code::Other(name, _) => name.clone(),
        _ => return None,
    })
}

/// An IMAP client session over one connection.
pub struct Session {
    conn: Connection,
    limits: Limits,
    tags: u32,
    capabilities: Vec<String>,
    preauth: bool,
    greeting: String,
    names: NameForm,
    /// Tags of FETCH commands sent and not yet read to their completion.
    in_flight: Vec<String>,
    /// Completions that arrived before the one being read.
    completed: Vec<(String, Done)>,
    /// Untagged responses read since the last tagged completion.
    responses: usize,
}

impl Session {
    /// Reads the greeting (RFC 3501 §7.1): `* OK`, with capabilities when
    /// it carries a CAPABILITY code; `* PREAUTH`, logged in already
    /// ([`Session::is_preauth`]); `* BYE`, refused (75 with
    /// `[UNAVAILABLE]`, otherwise 69); anything else is 76.
    pub fn greet(mut conn: Connection) -> Result<Session, Error> {
        let limits = Limits::default();
        let response = read_response(&mut conn, &limits)
            .map_err(|e| e.prefixed("waiting for the greeting"))?;
        let Response::Untagged(Untagged::Condition {
            condition,
            code,
            text,
        }) = response
        else {
            return Err(Error::protocol(
                "the greeting is not * OK, * PREAUTH or * BYE",
            ));
        };
        let preauth = match condition {
            Condition::Ok => false,
            Condition::Preauth => true,
            Condition::Bye => return Err(greeting_refused(code.as_ref(), &text)),
            Condition::No | Condition::Bad => {
                return Err(Error::protocol(
                    "the greeting is not * OK, * PREAUTH or * BYE",
                ));
            }
        };
        let capabilities = match code {
            Some(Code::Capability(names)) => names,
            _ => Vec::new(),
        };
        Ok(Session {
            conn,
            limits,
            tags: 0,
            capabilities,
            preauth,
            greeting: text,
            names: NameForm::Utf7,
            in_flight: Vec::new(),
            completed: Vec::new(),
            responses: 0,
        })
    }

    /// The greeting's text, after its response code (for diagnosis).
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// The greeting was `* PREAUTH`: the session is authenticated already,
    /// so STARTTLS is impossible (RFC 3501 §6.2.1) and no login is sent.
    pub fn is_preauth(&self) -> bool {
        self.preauth
    }

    /// The capability names last seen, as sent.
    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    /// Whether `name` is among the capabilities (case-insensitively).
    pub fn has(&self, name: &str) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case(name))
    }

    /// How mailbox names travel on this session.
    pub fn name_form(&self) -> NameForm {
        self.names
    }

    /// The wire form of a folder name as the user typed it.
    pub fn wire_name(&self, name: &str) -> Vec<u8> {
        mailbox_name::to_wire(name, self.names)
    }

    /// The connection, e.g. for its TLS facts.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// CAPABILITY (RFC 3501 §6.1.1).
    pub fn ask_capabilities(&mut self) -> Result<(), Error> {
        let tag = self.simple("CAPABILITY")?;
        self.finish(&tag, None)?
            .check("CAPABILITY", ErrorKind::Protocol)?;
        Ok(())
    }

    /// Logs in, unless PREAUTH did: AUTHENTICATE with the strongest
    /// offered SASL mechanism ([`sasl::choose`]: PLAIN, LOGIN, or with a
    /// token OAUTHBEARER, XOAUTH2), else LOGIN with the user and password
    /// as strings (refused with 77 under `LOGINDISABLED`, RFC 3501 §6.2.3).
    /// A NO is 77 (75 with `[UNAVAILABLE]`). The capabilities are those of
    /// the tagged OK's CAPABILITY code, or asked again.
    pub fn login(&mut self, login: &Login) -> Result<(), Error> {
        if self.preauth {
            return Ok(());
        }
        let offered: Vec<String> = self
            .capabilities
            .iter()
            .filter_map(|c| sasl_name(c))
            .collect();
        let done = match sasl::choose(&offered, login.oauth) {
            Some(mechanism) => self.authenticate(login, mechanism)?,
            None if login.oauth => {
                return Err(Error::new(
                    ErrorKind::AuthRefused,
                    "the server offers neither OAUTHBEARER nor XOAUTH2 for an OAuth token",
                ));
            }
            None if self.has("LOGINDISABLED") => {
                return Err(Error::new(
                    ErrorKind::AuthRefused,
                    "the server refuses LOGIN here (LOGINDISABLED) and offers no usable \
                     AUTHENTICATE mechanism",
                ));
            }
            None => self.login_command(login)?,
        };
        let done = done.check("login", ErrorKind::AuthRefused)?;
        match done.code {
            Some(Code::Capability(names)) => self.capabilities = names,
            _ => self.ask_capabilities()?,
        }
        Ok(())
    }

    /// LOGIN user password (RFC 3501 §6.2.3), both as strings, the password
    /// masked in the transcript.
    fn login_command(&mut self, login: &Login) -> Result<Done, Error> {
        let tag = self.tag();
        let literals = self.literals();
        let mut command = literal::Command::new(&mut self.conn, literals, &format!("{tag} LOGIN"))?;
        command.astring(login.user.as_bytes())?;
        command.secret(login.secret.expose().as_bytes())?;
        command.send()?;
        self.finish(&tag, None)
    }

    /// AUTHENTICATE (RFC 3501 §6.2.2): the initial response with the
    /// command under SASL-IR (RFC 4959, `=` for an empty one), each `+`
    /// challenge answered by [`sasl::Client`].
    fn authenticate(&mut self, login: &Login, mechanism: sasl::Mechanism) -> Result<Done, Error> {
        let (host, port) = (self.conn.host().to_owned(), self.conn.port());
        let mut client =
            sasl::Client::new(mechanism, &login.user, login.secret.expose(), &host, port);
        let tag = self.tag();
        let start = format!("{tag} AUTHENTICATE {mechanism}");
        match self.has("SASL-IR") {
            true => match client.initial_response() {
                Some(first) => {
                    let line = if first.line.is_empty() {
                        "="
                    } else {
                        &first.line
                    };
                    let shown = format!("{start} ****");
                    self.conn
                        .write_secret_line(&format!("{start} {line}"), &shown)?;
                }
                None => self.conn.write_line(&start)?,
            },
            false => self.conn.write_line(&start)?,
        }
        let done = self.finish(&tag, Some(&mut client))?;
        match (done.status, client.oauth_error()) {
            (Completion::No, Some(detail)) => {
                let text = crate::output::printable(detail).into_owned();
                Err(done
                    .check("AUTHENTICATE", ErrorKind::AuthRefused)
                    .err()
                    .unwrap_or_else(|| Error::bug("a NO checked as OK"))
                    .suffixed(&format!(" (token refused: {text})")))
            }
            _ => Ok(done),
        }
    }

    /// ENABLE UTF8=ACCEPT (RFC 6855 §3) when offered: names then travel as
    /// UTF-8. Returns whether the server enabled it.
    pub fn enable_utf8(&mut self) -> Result<bool, Error> {
        if !self.has("UTF8=ACCEPT") || !self.has("ENABLE") {
            return Ok(false);
        }
        let tag = self.simple("ENABLE UTF8=ACCEPT")?;
        let done = self
            .finish(&tag, None)?
            .check("ENABLE", ErrorKind::Protocol)?;
        let enabled = done.untagged.iter().any(|u| match u {
            Untagged::Enabled(names) => names.iter().any(|n| n.eq_ignore_ascii_case("UTF8=ACCEPT")),
            _ => false,
        });
        if enabled {
            self.names = NameForm::Utf8;
        }
        Ok(enabled)
    }

    /// Every folder: `LIST "" "*"` (RFC 3501 §6.3.8), asking for the
    /// special uses (RFC 6154 §5.1, a LIST-EXTENDED return option) and the
    /// counts (RFC 5819) when offered; without LIST-STATUS, STATUS for each
    /// selectable folder, a folder whose STATUS is refused left without
    /// counts.
    pub fn list(&mut self) -> Result<Vec<Folder>, Error> {
        let list_status = self.has("LIST-STATUS");
        let line = self.list_command(list_status);
        let tag = self.simple(&line)?;
        let done = self.finish(&tag, None)?.check("LIST", ErrorKind::Refused)?;
        let mut folders = Vec::new();
        let mut statuses = Vec::new();
        for untagged in done.untagged {
            match untagged {
                Untagged::List {
                    kind: ListKind::List,
                    flags,
                    delimiter,
                    name,
                    ..
                } => folders.push(self.folder(name, delimiter, flags)),
                Untagged::Status { mailbox, items } => statuses.push((mailbox, items)),
                _ => {}
            }
        }
        for (mailbox, items) in statuses {
            if let Some(folder) = folders.iter_mut().find(|f| same_mailbox(&f.name, &mailbox)) {
                apply_status(folder, &items);
            }
        }
        if !list_status {
            self.status_each(&mut folders)?;
        }
        Ok(folders)
    }

    /// `LIST "" "*"` with the return options the server takes.
    fn list_command(&self, list_status: bool) -> String {
        let mut returns = Vec::new();
        if self.has("SPECIAL-USE") && self.has("LIST-EXTENDED") {
            returns.push("SPECIAL-USE");
        }
        if list_status {
            returns.push("STATUS (MESSAGES UNSEEN)");
        }
        let mut line = "LIST \"\" \"*\"".to_owned();
        if !returns.is_empty() {
            line.push_str(&format!(" RETURN ({})", returns.join(" ")));
        }
        line
    }

    /// STATUS for each selectable folder; a refusal (NO) leaves that
    /// folder without counts.
    fn status_each(&mut self, folders: &mut [Folder]) -> Result<(), Error> {
        for folder in folders.iter_mut().filter(|f| f.selectable()) {
            match self.status(&folder.name) {
                Ok(items) => apply_status(folder, &items),
                Err(e) if e.is_refusal() && e.kind() != ErrorKind::ConnectionLost => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// A folder of a LIST response, its name decoded for display.
    fn folder(&self, name: Vec<u8>, delimiter: Option<char>, flags: Vec<String>) -> Folder {
        let (display, malformed) = mailbox_name::display_name(&name, self.names);
        Folder {
            name,
            display,
            malformed,
            delimiter,
            flags,
            messages: None,
            unseen: None,
        }
    }

    /// `STATUS name (MESSAGES UNSEEN)` (RFC 3501 §6.3.10) for a wire name:
    /// the attributes as sent with their numbers. A NO is 67.
    pub fn status(&mut self, name: &[u8]) -> Result<Vec<(String, u64)>, Error> {
        let tag = self.with_name("STATUS", name, Some("(MESSAGES UNSEEN)"))?;
        let done = self
            .finish(&tag, None)?
            .check("STATUS", ErrorKind::NoSuchRecipient)?;
        let mut found = Vec::new();
        for untagged in done.untagged {
            if let Untagged::Status { mailbox, items } = untagged
                && same_mailbox(&mailbox, name)
            {
                found.extend(items);
            }
        }
        Ok(found)
    }

    /// `EXAMINE name` (RFC 3501 §6.3.2) for a wire name: the folder opened
    /// read-only. A NO is 67; a completion without UIDVALIDITY or EXISTS
    /// is 76.
    pub fn examine(&mut self, name: &[u8]) -> Result<Examined, Error> {
        let tag = self.with_name("EXAMINE", name, None)?;
        let done = self
            .finish(&tag, None)?
            .check("EXAMINE", ErrorKind::NoSuchRecipient)?;
        let (mut uid_validity, mut exists, mut uid_next, mut flags) =
            (None, None, None, Vec::new());
        for untagged in done.untagged {
            match untagged {
                Untagged::Exists(n) => exists = Some(n),
                Untagged::Flags(list) => flags = list,
                Untagged::Condition {
                    code: Some(Code::UidValidity(n)),
                    ..
                } => uid_validity = Some(n),
                Untagged::Condition {
                    code: Some(Code::UidNext(n)),
                    ..
                } => uid_next = Some(n),
                _ => {}
            }
        }
        match (uid_validity, exists) {
            (Some(uid_validity), Some(exists)) => Ok(Examined {
                uid_validity,
                exists,
                uid_next,
                flags,
            }),
            _ => Err(Error::protocol(
                "EXAMINE: the server did not send both UIDVALIDITY and EXISTS",
            )),
        }
    }

    /// `UID SEARCH keys` (RFC 3501 §6.4.4, §6.4.8) in the folder examined:
    /// the UIDs found. `keys` is sent as it is (`ALL`, `UID 5:*`).
    pub fn uid_search(&mut self, keys: &str) -> Result<Vec<u32>, Error> {
        let tag = self.simple(&format!("UID SEARCH {keys}"))?;
        let done = self
            .finish(&tag, None)?
            .check("UID SEARCH", ErrorKind::Protocol)?;
        Ok(searched(done.untagged))
    }

    /// `UID SEARCH` (RFC 3501 §6.4.4) with a user's [`Query`]: atoms as
    /// they are, strings quoted or as literals, `CHARSET UTF-8` first when a
    /// string is not ASCII (not after ENABLE UTF8=ACCEPT, RFC 6855 §3,
    /// where UTF-8 is the charset). The UIDs found; a BAD (keys the server
    /// cannot read) is a usage error (64).
    pub fn uid_search_query(&mut self, query: &Query) -> Result<Vec<u32>, Error> {
        let tag = self.tag();
        let literals = self.literals();
        let mut start = format!("{tag} UID SEARCH");
        if query.needs_charset() && self.names != NameForm::Utf8 {
            start.push_str(" CHARSET UTF-8");
        }
        let mut command = literal::Command::new(&mut self.conn, literals, &start)?;
        for token in &query.tokens {
            match token {
                Token::Atom(atom) => command.raw(atom)?,
                Token::Text(text) => command.string(text)?,
                Token::Open => command.open_list(),
                Token::Close => command.close_list(),
            };
        }
        command.send()?;
        let done = self.finish(&tag, None)?;
        if done.status == Completion::Bad {
            return Err(Error::usage(format!(
                "--search: the server cannot read these search keys: {}",
                done.line()
            )));
        }
        let done = done.check("UID SEARCH", ErrorKind::Refused)?;
        Ok(searched(done.untagged))
    }

    /// `UID FETCH range items` (RFC 3501 §6.4.5, §6.4.8) in the folder
    /// examined, every literal kept in memory (within [`Limits`]). Items
    /// that would set `\Seen` are refused (65) before anything is sent:
    /// use `BODY.PEEK[...]`.
    pub fn uid_fetch(&mut self, range: &str, items: &str) -> Result<Vec<Fetched>, Error> {
        check_peek(items)?;
        let tag = self.simple(&format!("UID FETCH {range} {items}"))?;
        let done = self
            .finish(&tag, None)?
            .check("UID FETCH", ErrorKind::Protocol)?;
        Ok(done
            .untagged
            .into_iter()
            .filter_map(|untagged| match untagged {
                Untagged::Fetch { seq, items } => Some(Fetched { seq, items }),
                _ => None,
            })
            .collect())
    }

    /// LOGOUT (RFC 3501 §6.1.3), read to its completion.
    pub fn logout(mut self) -> Result<(), Error> {
        let tag = self.simple("LOGOUT")?;
        self.finish_logout(&tag)?
            .check("LOGOUT", ErrorKind::Protocol)?;
        Ok(())
    }

    /// The next tag: `a1`, `a2`, ...
    fn tag(&mut self) -> String {
        self.tags = self.tags.wrapping_add(1);
        format!("a{}", self.tags)
    }

    /// How literals may be sent, from the capabilities.
    fn literals(&self) -> Literals {
        Literals::from_capabilities(self.capabilities.iter().map(String::as_str))
    }

    /// Sends `tag text` (text without any string argument); the tag.
    fn simple(&mut self, text: &str) -> Result<String, Error> {
        let tag = self.tag();
        let literals = self.literals();
        literal::Command::new(&mut self.conn, literals, &format!("{tag} {text}"))?.send()?;
        Ok(tag)
    }

    /// Sends `tag COMMAND "name" [after]`, the name as a string; the tag.
    fn with_name(
        &mut self,
        command: &str,
        name: &[u8],
        after: Option<&str>,
    ) -> Result<String, Error> {
        let tag = self.tag();
        let literals = self.literals();
        let mut line =
            literal::Command::new(&mut self.conn, literals, &format!("{tag} {command}"))?;
        line.string(name)?;
        if let Some(after) = after {
            line.raw(after)?;
        }
        line.send()?;
        Ok(tag)
    }

    /// Reads untagged data until the completion tagged `tag`; continuation
    /// requests go to `sasl` (a protocol error without one). A `* BYE` is
    /// the end of the session (75).
    fn finish(&mut self, tag: &str, sasl: Option<&mut sasl::Client>) -> Result<Done, Error> {
        self.read_until(tag, sasl, false)
    }

    /// Like [`Session::finish`], a `* BYE` expected.
    fn finish_logout(&mut self, tag: &str) -> Result<Done, Error> {
        self.read_until(tag, None, true)
    }

    fn read_until(
        &mut self,
        tag: &str,
        mut sasl: Option<&mut sasl::Client>,
        bye_expected: bool,
    ) -> Result<Done, Error> {
        let mut untagged = Vec::new();
        let start = self.conn.received_octets();
        loop {
            match read_response(&mut self.conn, &self.limits)? {
                Response::Tagged {
                    tag: got,
                    status,
                    code,
                    text,
                } => {
                    self.responses = 0;
                    if got != tag {
                        return Err(Error::protocol(format!(
                            "the server completed tag {:?}, not {tag}",
                            crate::output::printable(&got)
                        )));
                    }
                    if let Some(Code::Capability(names)) = &code {
                        self.capabilities = names.clone();
                    }
                    return Ok(Done {
                        status,
                        code,
                        text,
                        untagged,
                    });
                }
                Response::Continuation { text } => match sasl.as_deref_mut() {
                    Some(client) => self.answer(client, &text)?,
                    None => {
                        return Err(Error::protocol(
                            "the server asked for a continuation nothing was waiting for",
                        ));
                    }
                },
                Response::Untagged(data) => {
                    self.count_response()?;
                    if let Some(data) = self.untagged(data, bye_expected)? {
                        if untagged.len() >= MAX_UNTAGGED {
                            return Err(Error::protocol(
                                "the server sent more untagged responses than mailkit keeps",
                            ));
                        }
                        untagged.push(data);
                        if self.conn.received_octets() - start > MAX_KEPT_OCTETS {
                            return Err(Error::protocol(format!(
                                "the server sent more than {} MiB of responses to one command",
                                MAX_KEPT_OCTETS >> 20
                            )));
                        }
                    }
                }
            }
        }
    }

    /// Counts an untagged response against [`MAX_RESPONSES`].
    fn count_response(&mut self) -> Result<(), Error> {
        self.responses += 1;
        if self.responses > MAX_RESPONSES {
            return Err(Error::protocol(format!(
                "the server sent more than {MAX_RESPONSES} untagged responses without \
                 completing the command"
            )));
        }
        Ok(())
    }

    /// One untagged response: capabilities noted, a BYE an error unless
    /// expected; the data to keep.
    fn untagged(&mut self, data: Untagged, bye_expected: bool) -> Result<Option<Untagged>, Error> {
        match data {
            Untagged::Capability(names) => self.capabilities = names,
            Untagged::Condition {
                condition: Condition::Bye,
                text,
                ..
            } if !bye_expected => {
                let text = crate::output::printable(&text).into_owned();
                return Err(Error::refusal(
                    ErrorKind::ConnectionLost,
                    ServerReply {
                        code: None,
                        text: format!("BYE {text}"),
                    },
                    format!("the server ended the session: BYE {text}"),
                ));
            }
            Untagged::Condition {
                code: Some(Code::Capability(names)),
                ..
            } => self.capabilities = names,
            data => return Ok(Some(data)),
        }
        Ok(None)
    }

    /// Answers one SASL challenge; a failure cancels the exchange with
    /// `*` (RFC 3501 §6.2.2) and is returned.
    fn answer(&mut self, client: &mut sasl::Client, challenge: &str) -> Result<(), Error> {
        match client.respond(challenge.trim()) {
            Ok(response) if response.secret => self.conn.write_secret_line(&response.line, "****"),
            Ok(response) => self.conn.write_line(&response.line),
            Err(error) => {
                let _ = self.conn.write_line("*");
                let _ = self.conn.flush();
                Err(error.prefixed("AUTHENTICATE"))
            }
        }
    }

    /// `UID FETCH range items`, the message text of each FETCH written to
    /// `sink` instead of memory (see [`read_response_to`]); as
    /// [`Session::uid_fetch`] otherwise.
    pub fn uid_fetch_to(
        &mut self,
        range: &str,
        items: &str,
        sink: &mut dyn Write,
    ) -> Result<Vec<Fetched>, Error> {
        let pending = self.send_uid_fetch(range, items)?;
        let mut fetched = Vec::new();
        while let Some(one) = self.read_fetch(&pending, sink)? {
            if fetched.len() >= MAX_UNTAGGED {
                return Err(Error::protocol(
                    "the server sent more FETCH responses than mailkit keeps",
                ));
            }
            fetched.push(one);
        }
        Ok(fetched)
    }

    /// Sends `UID FETCH range items` (refused, 65, when an item would set
    /// `\Seen`); its responses are then read one at a time with
    /// [`Session::read_fetch`], each into a sink of its own (one file per
    /// message), until it returns `None`.
    pub fn send_uid_fetch(&mut self, range: &str, items: &str) -> Result<PendingFetch, Error> {
        check_peek(items)?;
        let tag = self.simple(&format!("UID FETCH {range} {items}"))?;
        self.in_flight.push(tag.clone());
        Ok(PendingFetch { tag })
    }

    /// Reads the next FETCH response of `pending`, its message text
    /// written to `sink` (nothing is written for other responses); `None`
    /// once the command completed OK. Several commands may be in flight
    /// (RFC 3501 §5.5): a FETCH response is given to whichever is read
    /// (a caller with several in flight tells them apart by UID, and asks
    /// message text of one at a time), and a completion of another is kept
    /// for its own read. Other untagged data is handled as everywhere (a
    /// `* BYE` is an error) and skipped.
    pub fn read_fetch(
        &mut self,
        pending: &PendingFetch,
        sink: &mut dyn Write,
    ) -> Result<Option<Fetched>, Error> {
        self.next_fetch(pending, Some(sink))
    }

    /// [`Session::read_fetch`], message text kept in the items when there
    /// is no sink.
    fn next_fetch(
        &mut self,
        pending: &PendingFetch,
        mut sink: Option<&mut dyn Write>,
    ) -> Result<Option<Fetched>, Error> {
        loop {
            if let Some(at) = self.completed.iter().position(|(t, _)| *t == pending.tag) {
                let (_, done) = self.completed.remove(at);
                self.in_flight.retain(|t| *t != pending.tag);
                done.check("UID FETCH", ErrorKind::Protocol)?;
                return Ok(None);
            }
            let response = match sink.as_deref_mut() {
                Some(sink) => read_response_to(&mut self.conn, &self.limits, sink)?,
                None => read_response(&mut self.conn, &self.limits)?,
            };
            match response {
                Response::Tagged {
                    tag,
                    status,
                    code,
                    text,
                } if self.in_flight.contains(&tag) => {
                    self.responses = 0;
                    let done = Done {
                        status,
                        code,
                        text,
                        untagged: Vec::new(),
                    };
                    self.completed.push((tag, done));
                }
                Response::Tagged { .. } | Response::Continuation { .. } => {
                    return Err(Error::protocol(
                        "UID FETCH: the server sent a completion or continuation out of turn",
                    ));
                }
                Response::Untagged(Untagged::Fetch { seq, items }) => {
                    self.count_response()?;
                    return Ok(Some(Fetched { seq, items }));
                }
                Response::Untagged(data) => {
                    self.count_response()?;
                    self.untagged(data, false)?;
                }
            }
        }
    }

    /// Reads `pending` to its completion, every FETCH response given to
    /// `each` with its literals kept (within [`Limits`]: for header
    /// fields, not whole messages, which [`Session::read_fetch`] streams).
    pub fn read_fetches(
        &mut self,
        pending: &PendingFetch,
        each: &mut dyn FnMut(Fetched) -> Result<(), Error>,
    ) -> Result<(), Error> {
        while let Some(fetched) = self.next_fetch(pending, None)? {
            each(fetched)?;
        }
        Ok(())
    }
}

/// The UIDs of every `* SEARCH` response, sorted, each once (RFC 3501
/// §7.2.5 gives no order, and a server may split the answer).
fn searched(untagged: Vec<Untagged>) -> Vec<u32> {
    let mut uids = Vec::new();
    for data in untagged {
        if let Untagged::Search(found) = data {
            uids.extend(found);
        }
    }
    uids.sort_unstable();
    uids.dedup();
    uids
}

/// A `UID FETCH` sent by [`Session::send_uid_fetch`] whose responses are
/// still to be read.
#[derive(Debug)]
pub struct PendingFetch {
    tag: String,
}

/// The mechanism of an `AUTH=` capability (RFC 3501 §6.2.2).
fn sasl_name(capability: &str) -> Option<String> {
    let prefix = capability.get(..5)?;
    let name = capability.get(5..)?;
    prefix
        .eq_ignore_ascii_case("AUTH=")
        .then(|| name.to_owned())
}

/// Whether two wire names are the same mailbox: the same octets, or
/// `INBOX` in any case (RFC 3501 §5.1).
fn same_mailbox(a: &[u8], b: &[u8]) -> bool {
    a == b || (a.eq_ignore_ascii_case(b"INBOX") && b.eq_ignore_ascii_case(b"INBOX"))
}

/// The counts of a STATUS response put on a folder.
fn apply_status(folder: &mut Folder, items: &[(String, u64)]) {
    for (name, value) in items {
        if name.eq_ignore_ascii_case("MESSAGES") {
            folder.messages = Some(*value);
        } else if name.eq_ignore_ascii_case("UNSEEN") {
            folder.unseen = Some(*value);
        }
    }
}

/// Refuses FETCH items that set `\Seen` (RFC 3501 §6.4.5): `BODY[...]`
/// (not `BODY.PEEK[...]`), `BINARY[...]` (RFC 3516, not `BINARY.PEEK`),
/// `RFC822` and `RFC822.TEXT`. 65: the caller asked for a change.
fn check_peek(items: &str) -> Result<(), Error> {
    let upper = items.to_ascii_uppercase();
    let words = upper.split([' ', '(', ')']);
    for word in words {
        let setting = word.starts_with("BODY[")
            || word.starts_with("BINARY[")
            || word == "RFC822"
            || word == "RFC822.TEXT";
        if setting {
            return Err(Error::new(
                ErrorKind::BadInput,
                format!("FETCH {word} would mark messages \\Seen; use the .PEEK form"),
            ));
        }
    }
    Ok(())
}

/// The error of a `* BYE` greeting: 75 with `[UNAVAILABLE]` (RFC 5530),
/// 69 otherwise.
fn greeting_refused(code: Option<&Code>, text: &str) -> Error {
    let text = crate::output::printable(text).into_owned();
    let (kind, code) = match code_name(code).as_deref() {
        Some("UNAVAILABLE") => (ErrorKind::Deferred, " [UNAVAILABLE]"),
        _ => (ErrorKind::Refused, ""),
    };
    let line = format!("BYE{code} {text}");
    Error::refusal(
        kind,
        ServerReply {
            code: None,
            text: line.clone(),
        },
        format!("the server refused the session: {line}"),
    )
}

impl Handshake for Session {
    type Options = ();

    fn greet(conn: Connection, _: &()) -> Result<Session, Error> {
        Session::greet(conn)
    }

    fn capabilities(&mut self) -> Result<(), Error> {
        self.ask_capabilities()
    }

    /// STARTTLS offered, and possible: never after PREAUTH.
    fn offers_tls(&self) -> bool {
        !self.preauth && self.has("STARTTLS")
    }

    /// STARTTLS, alone (RFC 3501 §6.2.1). On OK the capabilities are
    /// forgotten: they are asked again over TLS.
    fn request_tls(&mut self) -> Result<TlsAnswer, Error> {
        let tag = self.simple("STARTTLS")?;
        let done = self.finish(&tag, None)?;
        if done.status != Completion::Ok {
            return Ok(TlsAnswer::Refused(ServerReply {
                code: None,
                text: done.line(),
            }));
        }
        self.capabilities.clear();
        Ok(TlsAnswer::Proceed)
    }

    fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// LOGOUT without waiting for the answer.
    fn quit(mut self) {
        if self.simple("LOGOUT").is_ok() {
            let _ = self.conn.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_that_set_seen_are_refused() {
        assert!(check_peek("(UID FLAGS BODY.PEEK[HEADER] RFC822.SIZE ENVELOPE)").is_ok());
        assert!(check_peek("(UID RFC822.HEADER BINARY.PEEK[1])").is_ok());
        for items in [
            "(UID BODY[])",
            "body[text]",
            "RFC822",
            "(FLAGS RFC822.TEXT)",
            "BINARY[1]",
        ] {
            let error = check_peek(items).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::BadInput, "{items}");
        }
    }

    #[test]
    fn failures_are_decided_by_response_codes() {
        let done = |status, code: Option<Code>| Done {
            status,
            code,
            text: "no".into(),
            untagged: Vec::new(),
        };
        let kind = |d: Done| d.check("x", ErrorKind::AuthRefused).unwrap_err().kind();
        let other = |name: &str| Some(Code::Other(name.into(), None));
        assert_eq!(kind(done(Completion::No, None)), ErrorKind::AuthRefused);
        assert_eq!(
            kind(done(Completion::No, other("UNAVAILABLE"))),
            ErrorKind::Deferred
        );
        assert_eq!(
            kind(done(Completion::No, other("NONEXISTENT"))),
            ErrorKind::NoSuchRecipient
        );
        assert_eq!(kind(done(Completion::Bad, None)), ErrorKind::Protocol);
        assert!(
            done(Completion::Ok, None)
                .check("x", ErrorKind::Refused)
                .is_ok()
        );
        let line = done(Completion::No, other("UNAVAILABLE")).line();
        assert_eq!(line, "NO [UNAVAILABLE] no");
    }
}
