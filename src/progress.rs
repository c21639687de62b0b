//! The progress bar of a long fetch: messages and octets done, the rate
//! and the time left, drawn on stderr by `indicatif` only when stderr is a
//! terminal (never in pipes or cron), without colour.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar, or nothing when none is wanted.
pub struct Progress {
    bar: Option<ProgressBar>,
    messages: u64,
    done: u64,
    /// `NAME: ` before the counts, or nothing.
    name: String,
}

impl Progress {
    /// A bar when `wanted` and stderr is a terminal; otherwise a progress
    /// that shows nothing.
    pub fn on_terminal(wanted: bool) -> Progress {
        let bar = (wanted && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{msg} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} {eta} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        Progress {
            bar,
            messages: 0,
            done: 0,
            name: String::new(),
        }
    }

    /// The work ahead: `messages` messages of `octets` in all.
    pub fn plan(&mut self, messages: u64, octets: u64) {
        self.plan_named("", messages, octets);
    }

    /// The work ahead in one of several steps (a folder), named on the
    /// bar; the bar starts again from zero.
    pub fn plan_named(&mut self, name: &str, messages: u64, octets: u64) {
        self.messages = messages;
        self.done = 0;
        self.name = match name.is_empty() {
            true => String::new(),
            false => format!("{}: ", crate::output::printable(name)),
        };
        if let Some(bar) = &self.bar {
            bar.set_position(0);
            bar.set_length(octets);
            bar.set_message(format!("{}0/{messages} messages", self.name));
        }
    }

    /// One message done, of `octets` (its planned size).
    pub fn message_done(&mut self, octets: u64) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.inc(octets);
            bar.set_message(format!(
                "{}{}/{} messages",
                self.name, self.done, self.messages
            ));
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
