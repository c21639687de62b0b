//! The library's error: what kind of failure it was, a one-line message,
//! and, when a server refused, its reply. The exit status is derived from
//! the kind in one table ([`ErrorKind::status`]); callers ask the
//! predicates ([`Error::is_transient`], [`Error::is_protocol_or_tls`], ...)
//! and never read an error's text or compare status numbers.

use std::fmt;

use crate::exit::ExitStatus;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The command line was wrong (64).
    Usage,
    /// Input data cannot be used as it is: a message that cannot be
    /// parsed, encoded or sent (65).
    BadInput,
    /// An input file is missing or unreadable (66).
    MissingInput,
    /// A recipient, mailbox or folder does not exist or was refused (67).
    NoSuchRecipient,
    /// A host or domain does not exist, or has no mail route (68).
    NoSuchHost,
    /// A server refused for good: SMTP 5xx, a null MX, a refused
    /// service (69).
    Refused,
    /// A bug in mailkit (70).
    Bug,
    /// An output file, Maildir or mbox cannot be created (73).
    CannotCreate,
    /// Local input/output failed (74).
    LocalIo,
    /// A connect, read or write took longer than the timeout (75).
    Timeout,
    /// The connection was refused, reset or closed by the peer (75).
    ConnectionLost,
    /// The server or resolver said "not now" (SMTP 4xx, DNS SERVFAIL), or
    /// a resource is busy (a held lock) (75).
    Deferred,
    /// TLS could not be set up or broke (76).
    Tls,
    /// The server's certificate was refused; see
    /// [`Error::certificate_reason`] (76).
    Certificate,
    /// The server broke the protocol, or lacks what is required of it
    /// (STARTTLS) (76).
    Protocol,
    /// The server refused the login (77).
    AuthRefused,
    /// A configuration error: a bad password file, netrc or CA file (78).
    Config,
}

impl ErrorKind {
    /// The exit status of this kind (the contract's sysexits table).
    pub fn status(self) -> ExitStatus {
        use ErrorKind as K;
        match self {
            K::Usage => ExitStatus::Usage,
            K::BadInput => ExitStatus::DataErr,
            K::MissingInput => ExitStatus::NoInput,
            K::NoSuchRecipient => ExitStatus::NoUser,
            K::NoSuchHost => ExitStatus::NoHost,
            K::Refused => ExitStatus::Unavailable,
            K::Bug => ExitStatus::Software,
            K::CannotCreate => ExitStatus::CantCreate,
            K::LocalIo => ExitStatus::IoErr,
            K::Timeout | K::ConnectionLost | K::Deferred => ExitStatus::TempFail,
            K::Tls | K::Certificate | K::Protocol => ExitStatus::Protocol,
            K::AuthRefused => ExitStatus::NoPerm,
            K::Config => ExitStatus::Config,
        }
    }
}

/// A server's refusal: its reply code and text, as it sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerReply {
    /// The reply code (SMTP's three digits); `None` for protocols without
    /// one (POP3 `-ERR`, IMAP `NO`).
    pub code: Option<u16>,
    /// The reply text as one line.
    pub text: String,
}

impl fmt::Display for ServerReply {
    /// `550 5.1.1 no such user`, or the text alone without a code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "{code} {}", self.text),
            None => f.write_str(&self.text),
        }
    }
}

/// A library error: its kind decides the exit status.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    reply: Option<ServerReply>,
    certificate_reason: Option<String>,
    io_kind: Option<std::io::ErrorKind>,
}

impl Error {
    /// An error of `kind` with a one-line message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            reply: None,
            certificate_reason: None,
            io_kind: None,
        }
    }

    /// An I/O failure of `kind` while `doing` something (`writing the
    /// part`), keeping what the system said, so that a closed pipe can be
    /// told apart ([`Error::is_broken_pipe`]).
    pub fn from_io(kind: ErrorKind, doing: &str, error: &std::io::Error) -> Self {
        let mut own = Error::new(kind, format!("{doing}: {error}"));
        own.io_kind = Some(error.kind());
        own
    }

    /// A usage error (64).
    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Usage, message)
    }

    /// Unusable input data (65).
    pub fn data(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::BadInput, message)
    }

    /// A configuration error (78).
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }

    /// A local I/O failure (74).
    pub fn io(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::LocalIo, message)
    }

    /// The server broke the protocol (76).
    pub fn protocol(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    /// A bug in mailkit (70).
    pub fn bug(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Bug, message)
    }

    /// A refused certificate: `reason` is the verifier's own (`hostname
    /// mismatch`, `self-signed certificate`), kept apart from the message.
    pub fn certificate(reason: impl Into<String>, message: impl Into<String>) -> Self {
        let mut error = Error::new(ErrorKind::Certificate, message);
        error.certificate_reason = Some(reason.into());
        error
    }

    /// A server's refusal of kind `kind`, keeping its reply.
    pub fn refusal(kind: ErrorKind, reply: ServerReply, message: impl Into<String>) -> Self {
        let mut error = Error::new(kind, message);
        error.reply = Some(reply);
        error
    }

    /// The same error with `prefix: ` before its message.
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }

    /// The same error with `suffix` after its message.
    pub fn suffixed(mut self, suffix: &str) -> Self {
        self.message.push_str(suffix);
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The exit status this error stands for.
    pub fn status(&self) -> ExitStatus {
        self.kind.status()
    }

    /// The server's reply, when a server refused.
    pub fn reply(&self) -> Option<&ServerReply> {
        self.reply.as_ref()
    }

    /// The verifier's reason, for a refused certificate.
    pub fn certificate_reason(&self) -> Option<&str> {
        self.certificate_reason.as_deref()
    }

    /// Retrying later may work: a timeout, a lost connection, a deferral.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Timeout | ErrorKind::ConnectionLost | ErrorKind::Deferred
        )
    }

    /// The peer broke the protocol or TLS failed (76): another server,
    /// or the same one without TLS, may do better.
    pub fn is_protocol_or_tls(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Tls | ErrorKind::Certificate | ErrorKind::Protocol
        )
    }

    /// The reader of the output went away (`| head`): not a failure of
    /// the tool, which stops quietly.
    pub fn is_broken_pipe(&self) -> bool {
        self.io_kind == Some(std::io::ErrorKind::BrokenPipe)
    }

    /// The server answered and refused (its reply is kept): the
    /// conversation is still in step, so a QUIT is in order.
    pub fn is_refusal(&self) -> bool {
        self.reply.is_some()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_the_contract_statuses() {
        let table = [
            (ErrorKind::Usage, 64),
            (ErrorKind::BadInput, 65),
            (ErrorKind::MissingInput, 66),
            (ErrorKind::NoSuchRecipient, 67),
            (ErrorKind::NoSuchHost, 68),
            (ErrorKind::Refused, 69),
            (ErrorKind::Bug, 70),
            (ErrorKind::CannotCreate, 73),
            (ErrorKind::LocalIo, 74),
            (ErrorKind::Timeout, 75),
            (ErrorKind::ConnectionLost, 75),
            (ErrorKind::Deferred, 75),
            (ErrorKind::Tls, 76),
            (ErrorKind::Certificate, 76),
            (ErrorKind::Protocol, 76),
            (ErrorKind::AuthRefused, 77),
            (ErrorKind::Config, 78),
        ];
        for (kind, code) in table {
            assert_eq!(kind.status().code(), code, "{kind:?}");
        }
    }

    #[test]
    fn predicates_follow_the_kind() {
        assert!(Error::new(ErrorKind::Timeout, "t").is_transient());
        assert!(!Error::new(ErrorKind::Tls, "t").is_transient());
        assert!(Error::certificate("self-signed certificate", "x").is_protocol_or_tls());
        assert!(!Error::new(ErrorKind::Refused, "r").is_protocol_or_tls());
        let reply = ServerReply {
            code: Some(554),
            text: "no".into(),
        };
        let refused = Error::refusal(ErrorKind::Refused, reply.clone(), "greeting");
        assert!(refused.is_refusal());
        assert_eq!(refused.reply(), Some(&reply));
    }

    #[test]
    fn prefix_keeps_kind_and_reason() {
        let error =
            Error::certificate("hostname mismatch", "TLS with x: refused").prefixed("STARTTLS");
        assert_eq!(error.kind(), ErrorKind::Certificate);
        assert_eq!(error.certificate_reason(), Some("hostname mismatch"));
        assert_eq!(error.to_string(), "STARTTLS: TLS with x: refused");
    }
}
