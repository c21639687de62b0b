//! The protocol transcript (`-v`), swaks style: one line per event, `<- `
//! from the server, `-> ` to it, `<~ ` / `~> ` once TLS is up, `=== `
//! for notes. Every session takes one; it is off unless asked for.
//!
//! Lines arrive made terminal-safe, and secrets (AUTH payloads, PASS,
//! LOGIN arguments) arrive already masked as `****` by the connection.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// A function that takes each transcript line.
type Sink = Box<dyn FnMut(&str) + Send>;

/// Where transcript lines go.
#[derive(Default)]
pub struct Transcript {
    sink: Option<Sink>,
}

impl Transcript {
    /// No transcript.
    pub fn off() -> Transcript {
        Transcript::default()
    }

    /// Each line on stderr, as the tools show it with `-v`.
    pub fn stderr() -> Transcript {
        Transcript::from_fn(|line| {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        })
    }

    /// On stderr when `verbose`, else off.
    pub fn stderr_if(verbose: bool) -> Transcript {
        match verbose {
            true => Transcript::stderr(),
            false => Transcript::off(),
        }
    }

    /// Each line appended to `log`, to show later next to other output
    /// (`mx-lookup --probe`, tests).
    pub fn kept_in(log: Arc<Mutex<Vec<String>>>) -> Transcript {
        Transcript::from_fn(move |line| {
            log.lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(line.to_owned());
        })
    }

    /// Each line handed to `sink`.
    pub fn from_fn(sink: impl FnMut(&str) + Send + 'static) -> Transcript {
        Transcript {
            sink: Some(Box::new(sink)),
        }
    }

    /// Whether lines are kept anywhere (so callers can skip formatting).
    pub fn is_on(&self) -> bool {
        self.sink.is_some()
    }

    /// Shows `mark text`, e.g. `<- 220 ready`.
    pub fn line(&mut self, mark: &str, text: &str) {
        if let Some(sink) = &mut self.sink {
            sink(&format!("{mark} {text}"));
        }
    }

    /// Hands the sink over (to the next connection to the same server),
    /// leaving this one off.
    pub fn take(&mut self) -> Transcript {
        std::mem::take(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_and_handed_over() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut first = Transcript::kept_in(Arc::clone(&log));
        first.line("->", "EHLO x");
        let mut second = first.take();
        first.line("->", "lost");
        second.line("<-", "250 ok");
        assert!(!first.is_on() && second.is_on());
        assert_eq!(*log.lock().unwrap(), ["-> EHLO x", "<- 250 ok"]);
    }

    #[test]
    fn off_keeps_nothing() {
        let mut off = Transcript::stderr_if(false);
        assert!(!off.is_on());
        off.line("->", "nothing");
    }
}
