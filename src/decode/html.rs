//! HTML to readable plain text, for text/html parts (RFC 2854) that have no
//! text/plain alternative; character references per HTML §13.5.

use std::borrow::Cow;

use memchr::memchr;

use super::charset::windows_1252;

/// HTML to readable plain text: tags removed; the content of script,
/// style and title dropped; block elements end lines (p, h1-h6, pre,
/// blockquote, table and lists with a blank line); li items as "* ",
/// indented by nesting; a link's URL after its text (" <url>") unless they
/// are the same; character references decoded (numeric ones, and the
/// common named ones: HTML 4's Latin-1 set, typography, arrows); white
/// space collapsed outside pre; zero-width characters dropped; lines
/// trimmed at the end, at most two blank lines in a row, the whole trimmed.
///
/// Linear time; malformed HTML (unclosed tags, '<' in text, comments,
/// CDATA) is read as browsers roughly do, never with a panic.
pub fn html_to_text(html: &str) -> String {
    let mut reader = HtmlReader {
        html,
        pos: 0,
        out: TextOut::default(),
        link: None,
    };
    reader.run();
    reader.close_link();
    reader.out.finish()
}

/// Raw text elements whose content is dropped.
const HTML_DROPPED: &[&str] = &["script", "style", "title", "template"];

/// Elements that start and end a paragraph: a blank line around them.
const HTML_PARAGRAPHS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "blockquote",
    "table",
    "ul",
    "ol",
    "dl",
];

/// Elements that start and end a line.
const HTML_LINES: &[&str] = &[
    "div",
    "tr",
    "li",
    "dt",
    "dd",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "main",
    "form",
    "address",
    "figure",
    "figcaption",
    "caption",
    "center",
    "hr",
    "fieldset",
    "details",
    "summary",
];

/// A start or end tag as read.
struct Tag {
    name: String,
    end: bool,
    href: Option<String>,
}

struct HtmlReader<'a> {
    html: &'a str,
    pos: usize,
    out: TextOut,
    /// The open link: where its text starts in the output, and its URL.
    link: Option<(usize, String)>,
}

impl HtmlReader<'_> {
    fn run(&mut self) {
        while let Some(rest) = self.html.get(self.pos..).filter(|r| !r.is_empty()) {
            let Some(at) = memchr::memchr2(b'<', b'&', rest.as_bytes()) else {
                self.out.push_text(rest);
                return;
            };
            self.out.push_text(&rest[..at]);
            self.pos += at;
            if rest.as_bytes()[at] == b'<' {
                self.markup();
            } else {
                let (text, len) = char_reference(&rest[at..]);
                self.out.push_text(&text);
                self.pos += len;
            }
        }
    }

    /// Reads what starts with '<' at `pos`.
    fn markup(&mut self) {
        let rest = &self.html[self.pos + 1..];
        if rest.starts_with("!--") {
            self.skip_past(4, "-->");
        } else if let Some(body) = rest.strip_prefix("![CDATA[") {
            let end = body.find("]]>").unwrap_or(body.len());
            self.out.push_text(&body[..end]);
            self.pos = (self.pos + "<![CDATA[".len() + end + "]]>".len()).min(self.html.len());
        } else if rest.starts_with(['!', '?']) {
            self.skip_past(1, ">");
        } else if rest.starts_with(|c: char| c.is_ascii_alphabetic())
            || (rest.starts_with('/') && rest[1..].starts_with(|c: char| c.is_ascii_alphabetic()))
        {
            self.tag();
        } else {
            self.out.push_text("<");
            self.pos += 1;
        }
    }

    /// Moves past the next `end` found `from` bytes after `pos`, or to the end.
    fn skip_past(&mut self, from: usize, end: &str) {
        let start = (self.pos + from).min(self.html.len());
        self.pos = self.html[start..]
            .find(end)
            .map_or(self.html.len(), |at| start + at + end.len());
    }

    fn tag(&mut self) {
        let Some(tag) = self.read_tag() else {
            // A tag cut by the end of the text: dropped, as browsers do.
            self.pos = self.html.len();
            return;
        };
        if tag.end {
            self.end_tag(&tag.name);
        } else {
            self.start_tag(tag);
        }
    }

    /// Reads a tag from '<' to '>' (quoted attribute values may hold '>').
    fn read_tag(&mut self) -> Option<Tag> {
        let bytes = self.html.as_bytes();
        let mut i = self.pos + 1;
        let end = bytes.get(i) == Some(&b'/');
        i += usize::from(end);
        let name_len = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let name = self.html[i..i + name_len].to_ascii_lowercase();
        i += name_len;
        let mut href = None;
        loop {
            while bytes
                .get(i)
                .is_some_and(|&b| b.is_ascii_whitespace() || b == b'/')
            {
                i += 1;
            }
            match bytes.get(i)? {
                b'>' => break,
                _ => {
                    let (attr, value, next) = attribute(self.html, i)?;
                    if attr.eq_ignore_ascii_case("href") {
                        href = value;
                    }
                    i = next;
                }
            }
        }
        self.pos = i + 1;
        Some(Tag { name, end, href })
    }

    fn start_tag(&mut self, tag: Tag) {
        let name = tag.name.as_str();
        if HTML_DROPPED.contains(&name) {
            return self.skip_raw_text(name);
        }
        self.block_start(name);
        match name {
            "br" => self.out.br(),
            "pre" => self.out.pre += 1,
            "ul" | "ol" => self.out.lists += 1,
            "li" => self.out.bullet(),
            "td" | "th" => self.out.space = true,
            "a" => {
                self.close_link();
                self.link = tag.href.map(|url| (self.out.text.len(), url));
            }
            _ => {}
        }
    }

    fn end_tag(&mut self, name: &str) {
        match name {
            "pre" => self.out.pre = self.out.pre.saturating_sub(1),
            "ul" | "ol" => self.out.lists = self.out.lists.saturating_sub(1),
            "a" => self.close_link(),
            _ => {}
        }
        self.block_start(name);
    }

    /// The line or paragraph break of a block element, at its start or end.
    fn block_start(&mut self, name: &str) {
        let nested_list = matches!(name, "ul" | "ol") && self.out.lists > 0;
        if HTML_PARAGRAPHS.contains(&name) && !nested_list {
            self.out.blank_line();
        } else if HTML_LINES.contains(&name) || nested_list {
            self.out.line_break();
        }
    }

    /// Skips the content of a raw text element up to its end tag (or the end).
    fn skip_raw_text(&mut self, name: &str) {
        let bytes = self.html.as_bytes();
        let mut i = self.pos;
        while let Some(at) = memchr(b'<', &bytes[i..]).map(|k| i + k) {
            let closes = bytes.get(at + 1) == Some(&b'/')
                && bytes
                    .get(at + 2..at + 2 + name.len())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
            if closes {
                self.pos = at;
                // The end tag itself; cut short, it ends the text.
                if self.read_tag().is_none() {
                    self.pos = self.html.len();
                }
                return;
            }
            i = at + 1;
        }
        self.pos = self.html.len();
    }

    /// Ends the open link: its URL follows its text when they differ.
    fn close_link(&mut self) {
        let Some((start, url)) = self.link.take() else {
            return;
        };
        let url = url.trim();
        let text = self.out.text.get(start..).unwrap_or("").trim();
        let hidden = url.is_empty()
            || url.starts_with('#')
            || url
                .get(..11)
                .is_some_and(|s| s.eq_ignore_ascii_case("javascript:"));
        let same = text == url || url.strip_prefix("mailto:") == Some(text);
        if !hidden && !same {
            self.out.push_text(" <");
            self.out.push_text(url);
            self.out.push_text(">");
        }
    }
}

/// The attribute at `i` of a tag: its name, its value (character
/// references decoded) if it has one, and where the next one starts; None
/// if the text ends inside it.
fn attribute(html: &str, mut i: usize) -> Option<(&str, Option<String>, usize)> {
    let bytes = html.as_bytes();
    let start = i;
    while bytes
        .get(i)
        .is_some_and(|&b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
    {
        i += 1;
    }
    // A lone '=' or '/' is skipped as a nameless attribute.
    let name_end = i.max(start + 1);
    let name = html.get(start..name_end)?;
    i = name_end;
    while bytes.get(i)?.is_ascii_whitespace() {
        i += 1;
    }
    if name == "=" || bytes[i] != b'=' {
        return Some((name, None, i));
    }
    i += 1;
    while bytes.get(i)?.is_ascii_whitespace() {
        i += 1;
    }
    let (raw, next) = match bytes[i] {
        quote @ (b'"' | b'\'') => {
            let len = memchr(quote, &bytes[i + 1..])?;
            (&html[i + 1..i + 1 + len], i + len + 2)
        }
        _ => {
            let len = bytes[i..]
                .iter()
                .take_while(|&&b| !b.is_ascii_whitespace() && b != b'>')
                .count();
            (&html[i..i + len], i + len)
        }
    };
    Some((name, Some(decode_char_references(raw)), next))
}

/// Text with its character references decoded.
fn decode_char_references(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let (decoded, len) = char_reference(&rest[at..]);
        out.push_str(&decoded);
        rest = &rest[at + len..];
    }
    out.push_str(rest);
    out
}

/// The character reference `text` starts with ('&' first) and its length;
/// a lone '&' if there is none.
fn char_reference(text: &str) -> (Cow<'static, str>, usize) {
    let found = match text.as_bytes().get(1) {
        Some(b'#') => numeric_reference(text),
        _ => named_reference(text),
    };
    match found {
        Some((c, len)) => (Cow::Owned(c.to_string()), len),
        None => (Cow::Borrowed("&"), 1),
    }
}

/// "&#NN;" or "&#xHH;" (the ';' optional): U+FFFD for what is no
/// character, windows-1252 for 128-159 (HTML §13.2.5.80).
fn numeric_reference(text: &str) -> Option<(char, usize)> {
    let b = text.as_bytes();
    let hex = matches!(b.get(2), Some(b'x' | b'X'));
    let start = 2 + usize::from(hex);
    let digits = b[start.min(b.len())..]
        .iter()
        .take_while(|c| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        })
        .count();
    if digits == 0 {
        return None;
    }
    let number = u32::from_str_radix(&text[start..start + digits], if hex { 16 } else { 10 });
    let c = match number {
        Ok(n @ 0x80..=0x9F) => windows_1252(&[n as u8]).chars().next(),
        Ok(0) | Err(_) => None,
        Ok(n) => char::from_u32(n),
    };
    let len = start + digits + usize::from(b.get(start + digits) == Some(&b';'));
    Some((c.unwrap_or('\u{FFFD}'), len))
}

/// "&name;" for the names in [`HTML_ENTITIES`] and [`LATIN1_ENTITIES`].
fn named_reference(text: &str) -> Option<(char, usize)> {
    let name_len = text[1..]
        .bytes()
        .take(10)
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    let name = &text[1..1 + name_len];
    if text.as_bytes().get(1 + name_len) != Some(&b';') {
        return None;
    }
    let latin1 = LATIN1_ENTITIES
        .iter()
        .position(|&n| n == name)
        .and_then(|i| char::from_u32(0xA0 + i as u32));
    let c = latin1.or_else(|| HTML_ENTITIES.iter().find(|(n, _)| *n == name).map(|e| e.1))?;
    Some((c, name_len + 2))
}

/// HTML 4 names of U+00A0 to U+00FF, in order.
const LATIN1_ENTITIES: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// Other common named character references.
const HTML_ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("euro", '€'),
    ("hellip", '…'),
    ("mdash", '—'),
    ("ndash", '–'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("sbquo", '‚'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("bdquo", '„'),
    ("bull", '•'),
    ("trade", '™'),
    ("dagger", '†'),
    ("Dagger", '‡'),
    ("permil", '‰'),
    ("larr", '←'),
    ("rarr", '→'),
    ("uarr", '↑'),
    ("darr", '↓'),
    ("OElig", 'Œ'),
    ("oelig", 'œ'),
    ("Scaron", 'Š'),
    ("scaron", 'š'),
    ("Yuml", 'Ÿ'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
    ("zwnj", '\u{200C}'),
    ("zwj", '\u{200D}'),
    ("lrm", '\u{200E}'),
    ("rlm", '\u{200F}'),
];

/// Characters that show nothing: dropped from the text (newsletters pad
/// their preview text with them).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}' | '\u{34F}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// The text being written, with white space collapsed and line breaks merged.
#[derive(Default)]
struct TextOut {
    text: String,
    /// White space was read since the last character written.
    space: bool,
    /// Depth of pre elements.
    pre: usize,
    /// Depth of lists.
    lists: usize,
    /// Where the last bullet ends: a block right after it stays on its line.
    bullet_end: Option<usize>,
}

impl TextOut {
    fn push_text(&mut self, text: &str) {
        for c in text.chars() {
            self.push_char(c);
        }
    }

    fn push_char(&mut self, c: char) {
        if is_invisible(c) || (self.pre > 0 && c == '\r') {
            return;
        }
        if self.pre > 0 {
            self.text.push(c);
        } else if c == '\u{A0}' {
            // A no-break space is never collapsed.
            self.text.push(' ');
            self.space = false;
        } else if c.is_whitespace() {
            self.space = true;
        } else {
            if self.space && !self.at_line_start() {
                self.text.push(' ');
            }
            self.space = false;
            self.text.push(c);
        }
    }

    fn at_line_start(&self) -> bool {
        self.text.is_empty() || self.text.ends_with('\n')
    }

    fn line_break(&mut self) {
        if self.bullet_end == Some(self.text.len()) {
            return;
        }
        self.space = false;
        if !self.at_line_start() {
            self.text.push('\n');
        }
    }

    fn blank_line(&mut self) {
        if self.bullet_end == Some(self.text.len()) {
            return;
        }
        self.line_break();
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    fn br(&mut self) {
        self.space = false;
        self.text.push('\n');
    }

    /// A list item: on its own line, indented by the depth of lists.
    fn bullet(&mut self) {
        self.line_break();
        for _ in 1..self.lists.min(8) {
            self.text.push_str("  ");
        }
        self.text.push('*');
        self.space = true;
        self.bullet_end = Some(self.text.len());
    }

    /// Lines trimmed at the end, at most two blank lines in a row, the whole trimmed.
    fn finish(self) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut blanks = 0;
        for line in self.text.split('\n') {
            let line = line.trim_end();
            blanks = if line.is_empty() { blanks + 1 } else { 0 };
            if blanks <= 2 {
                out.push_str(line);
                out.push('\n');
            }
        }
        out.trim().to_string()
    }
}
