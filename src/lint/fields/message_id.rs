//! Message-ID, In-Reply-To and References (RFC 5322 §3.6.4 msg-id, §4.5.4
//! obsolete forms).

use super::{Finding, IntoFinding, finding, is_atext_byte};
use crate::grammar::lex::{Cursor, Mode, Parsed, Problem, is_fws_byte};

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
        self.cur.skip_cfws(Mode::Strict)?;
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
            self.cur.skip_cfws(Mode::Strict)?;
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
            self.cur.quoted_string(Mode::Strict)?;
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
        if self.cur.skip_cfws(Mode::Strict)? {
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
                self.cur.quoted_string(Mode::Strict)?;
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
                _ if is_fws_byte(b) => obsolete = true,
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
