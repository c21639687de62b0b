//! Exit statuses shared by every tool, following sysexits.h, and the one
//! place that finds the status of an error chain at a binary's edge. The
//! library's [`Error`] knows its own status through its kind.

use crate::error::Error;

/// The exit statuses of the mailkit contract (sysexits.h numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitStatus {
    /// 0: done.
    Ok,
    /// 1: a tool-specific negative answer (for example lint errors found).
    Negative,
    /// 64: the command line was wrong.
    Usage,
    /// 65: input data cannot be used as it is.
    DataErr,
    /// 66: an input file is missing or unreadable.
    NoInput,
    /// 67: recipient, mailbox or folder does not exist or was rejected.
    NoUser,
    /// 68: host or domain does not exist, or has no mail route.
    NoHost,
    /// 69: permanent failure (SMTP 5xx, null MX, service refused).
    Unavailable,
    /// 70: an internal error: a bug in mailkit.
    Software,
    /// 73: an output file, Maildir or mbox cannot be created.
    CantCreate,
    /// 74: local input/output error.
    IoErr,
    /// 75: temporary failure; retrying later may work.
    TempFail,
    /// 76: the peer broke the protocol, or TLS failed.
    Protocol,
    /// 77: authentication failed.
    NoPerm,
    /// 78: configuration error.
    Config,
}

impl ExitStatus {
    /// The numeric status handed to the operating system.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::Negative => 1,
            ExitStatus::Usage => 64,
            ExitStatus::DataErr => 65,
            ExitStatus::NoInput => 66,
            ExitStatus::NoUser => 67,
            ExitStatus::NoHost => 68,
            ExitStatus::Unavailable => 69,
            ExitStatus::Software => 70,
            ExitStatus::CantCreate => 73,
            ExitStatus::IoErr => 74,
            ExitStatus::TempFail => 75,
            ExitStatus::Protocol => 76,
            ExitStatus::NoPerm => 77,
            ExitStatus::Config => 78,
        }
    }

    /// True for the status that means "done".
    pub fn is_ok(self) -> bool {
        self == ExitStatus::Ok
    }

    /// Keeps the first failure seen: `self` unless it is still [`ExitStatus::Ok`].
    pub fn or(self, later: ExitStatus) -> ExitStatus {
        if self.is_ok() { later } else { self }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code())
    }
}

/// The exit status for any error chain: the first [`Error`] in it decides;
/// otherwise an I/O error is 74 (or 66 when a file is missing or unreadable
/// at open time is reported through [`Error`]), and anything else is 70.
pub fn status_of(error: &anyhow::Error) -> ExitStatus {
    for cause in error.chain() {
        if let Some(own) = cause.downcast_ref::<Error>() {
            return own.status();
        }
    }
    for cause in error.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return status_of_io(io);
        }
    }
    ExitStatus::Software
}

/// The exit status for a local I/O error.
pub fn status_of_io(error: &std::io::Error) -> ExitStatus {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::TimedOut | ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset => {
            ExitStatus::TempFail
        }
        _ => ExitStatus::IoErr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_failure_wins() {
        let status = ExitStatus::Ok
            .or(ExitStatus::Ok)
            .or(ExitStatus::NoHost)
            .or(ExitStatus::TempFail);
        assert_eq!(status, ExitStatus::NoHost);
    }

    #[test]
    fn typed_error_decides_status_through_context() {
        let err = anyhow::Error::new(Error::new(
            crate::error::ErrorKind::AuthRefused,
            "bad password",
        ))
        .context("logging in");
        assert_eq!(status_of(&err), ExitStatus::NoPerm);
        let io = anyhow::Error::new(std::io::Error::other("disk")).context("writing");
        assert_eq!(status_of(&io), ExitStatus::IoErr);
        assert_eq!(status_of(&anyhow::anyhow!("odd")), ExitStatus::Software);
    }
}
