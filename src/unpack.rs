//! What `mime-unpack` does with the parts [`crate::mime_reader`] reads:
//! list them, extract attachments safely into a directory, write one part,
//! or collect the readable text.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, ErrorKind};
use crate::filename;
use crate::mime_reader::{Part, PartKind, Problem, RawContext, RawPiece, Visitor};

/// Collects every part (in the order they begin) with its final size.
#[derive(Default)]
pub struct Lister {
    /// The parts, sizes final once reading is done.
    pub parts: Vec<Part>,
    index: HashMap<String, usize>,
    /// Warnings, in order, with the part they concern.
    pub warnings: Vec<String>,
}

impl Visitor for Lister {
    fn start(&mut self, part: &Part) -> Result<(), Error> {
        self.index.insert(part.id.clone(), self.parts.len());
        self.parts.push(part.clone());
        Ok(())
    }

    fn content(&mut self, _: &Part, _: &[u8]) -> Result<(), Error> {
        Ok(())
    }

    fn end(&mut self, part: &Part) -> Result<(), Error> {
        if let Some(&at) = self.index.get(&part.id) {
            self.parts[at].size = part.size;
        }
        Ok(())
    }

    fn problem(&mut self, problem: &Problem) {
        self.warnings.push(problem.to_string());
    }
}

/// A part as the listing shows it with `--json`: the part's own fields
/// (the disposition it declares as `declared_disposition`), and
/// `disposition`, what [`Part::is_attachment`] makes of it: `attachment`,
/// `inline`, or null for a multipart.
#[derive(Debug, Serialize)]
pub struct Listed<'a> {
    /// The part.
    #[serde(flatten)]
    pub part: &'a Part,
    /// [`Part::effective_disposition`].
    pub disposition: Option<&'static str>,
}

impl<'a> From<&'a Part> for Listed<'a> {
    fn from(part: &'a Part) -> Self {
        Listed {
            part,
            disposition: part.effective_disposition(),
        }
    }
}

/// Writes the part tree as `mime-unpack` lists it (and `imap-list
/// --structure`): one line per part, tab-separated: number, type,
/// charset, encoding, size, disposition as [`Part::is_attachment`]
/// decides it, file name (`-` for none; what the sender wrote made
/// printable); with `json`, one [`Listed`] object per line instead.
pub fn write_tree(out: &mut impl Write, parts: &[Part], json: bool) -> std::io::Result<()> {
    use crate::output::{printable, write_json_record};
    for part in parts {
        if json {
            write_json_record(out, &Listed::from(part))?;
            continue;
        }
        // Everything but the number and size comes from the sender.
        let shown = |v: Option<&str>| v.map_or("-".into(), |v| printable(v).into_owned());
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            part.id,
            printable(&part.content_type),
            shown(part.charset.as_deref()),
            printable(&part.encoding),
            part.size,
            part.effective_disposition().unwrap_or("-"),
            shown(part.filename.as_deref()),
        )?;
    }
    Ok(())
}

/// `part 1.2: message`, or the message alone.
pub fn warning_text(part: Option<&str>, message: &str) -> String {
    match part {
        Some(id) => format!("part {id}: {message}"),
        None => message.to_string(),
    }
}

/// One file written by [`Extractor`].
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    /// The part number.
    pub part: String,
    /// Where it was written.
    pub path: PathBuf,
    /// Its media type.
    #[serde(rename = "type")]
    pub content_type: String,
    /// Its size in octets.
    pub size: u64,
    /// The name the message gave, if any, as written there.
    pub filename: Option<String>,
    /// When the safe name was taken: the name it wanted.
    pub renamed_from: Option<String>,
}

struct OpenFile {
    out: BufWriter<File>,
    path: PathBuf,
    wanted: String,
    /// A message/rfc822 part, written whole as `.eml`.
    message: bool,
}

/// Writes attachments (with `all`, inline bodies too) into a directory,
/// under safe, never-overwriting names.
pub struct Extractor {
    dir: PathBuf,
    all: bool,
    /// The files being written, by part ID (a few at most; a list, as
    /// each piece of a deeply nested message is shown to every level).
    open: Vec<(String, OpenFile)>,
    /// Files written, in the order they were completed.
    pub written: Vec<Written>,
    /// Warnings, in order.
    pub warnings: Vec<String>,
}

impl Extractor {
    /// An extractor into `dir`, which is created if missing (73 if it
    /// cannot be).
    pub fn new(dir: &Path, all: bool) -> Result<Self, Error> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::new(ErrorKind::CannotCreate, format!("{}: {e}", dir.display())))?;
        Ok(Extractor {
            dir: dir.to_path_buf(),
            all,
            open: Vec::new(),
            written: Vec::new(),
            warnings: Vec::new(),
        })
    }

    fn wanted(&self, part: &Part) -> bool {
        let wanted = part.is_attachment()
            || (self.all && matches!(part.kind, PartKind::Leaf | PartKind::Message));
        wanted && !(part.kind == PartKind::Message && self.inside_written_message(part))
    }

    /// Whether `part` lies inside a message part being written as `.eml`:
    /// a message in it is already in that file, and writing each level of
    /// nested messages again would multiply the input by its depth.
    fn inside_written_message(&self, part: &Part) -> bool {
        self.open.iter().any(|(id, file)| {
            file.message
                && part
                    .id
                    .strip_prefix(id.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }
}

/// The name to write a part under: its own name made safe, or
/// `part-ID.EXT`.
pub fn file_name_for(part: &Part) -> String {
    part.filename
        .as_deref()
        .and_then(filename::sanitize)
        .unwrap_or_else(|| {
            let extension = if part.kind == PartKind::Message {
                "eml"
            } else {
                crate::media_type::extension_for(&part.content_type).unwrap_or("bin")
            };
            format!("part-{}.{extension}", part.id)
        })
}

impl Visitor for Extractor {
    fn start(&mut self, part: &Part) -> Result<(), Error> {
        if !self.wanted(part) {
            return Ok(());
        }
        let wanted = file_name_for(part);
        match filename::create_unique(&self.dir, &wanted) {
            Ok((file, path)) => {
                self.open.push((
                    part.id.clone(),
                    OpenFile {
                        out: BufWriter::with_capacity(256 * 1024, file),
                        path,
                        wanted,
                        message: part.kind == PartKind::Message,
                    },
                ));
                Ok(())
            }
            Err(e) => Err(Error::new(
                ErrorKind::CannotCreate,
                format!("cannot create {:?} in {}: {e}", wanted, self.dir.display()),
            )),
        }
    }

    fn content(&mut self, part: &Part, data: &[u8]) -> Result<(), Error> {
        let Some((_, file)) = self.open.iter_mut().find(|(id, _)| *id == part.id) else {
            return Ok(());
        };
        if let Err(e) = file.out.write_all(data) {
            let path = file.path.clone();
            let _ = std::fs::remove_file(&path);
            self.open.retain(|(id, _)| *id != part.id);
            return Err(Error::new(
                ErrorKind::LocalIo,
                format!("writing {}: {e}", path.display()),
            ));
        }
        Ok(())
    }

    fn end(&mut self, part: &Part) -> Result<(), Error> {
        let Some(at) = self.open.iter().position(|(id, _)| *id == part.id) else {
            return Ok(());
        };
        let (_, mut file) = self.open.remove(at);
        if let Err(e) = file.out.flush() {
            let _ = std::fs::remove_file(&file.path);
            return Err(Error::new(
                ErrorKind::LocalIo,
                format!("writing {}: {e}", file.path.display()),
            ));
        }
        let taken = file
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        self.written.push(Written {
            part: part.id.clone(),
            renamed_from: (taken.as_deref() != Some(file.wanted.as_str())).then_some(file.wanted),
            path: file.path,
            content_type: part.content_type.clone(),
            size: part.size,
            filename: part.filename.clone(),
        });
        Ok(())
    }

    fn problem(&mut self, problem: &Problem) {
        self.warnings.push(problem.to_string());
    }
}

/// Writes one part to `out`: a leaf decoded; a message part or a
/// multipart as it stands, as IMAP `BODY[ID]` gives it (RFC 3501 §6.4.5):
/// a message part's header and body; a multipart's body without its own
/// header (IMAP's `ID.MIME`), from its preamble through its closing
/// delimiter line and its epilogue; for `0`, the message's whole body
/// (IMAP's `BODY[TEXT]`). The line end before the delimiter that ends the
/// part belongs to that delimiter (RFC 2046 §5.1.1) and is not written;
/// the line end of a closing delimiter is the part's own (as Dovecot
/// gives it).
pub struct PartWriter<W> {
    id: String,
    out: W,
    /// Whether the part was found.
    pub found: bool,
    /// Every part number met, in order.
    pub ids: Vec<String>,
    /// Warnings, in order.
    pub warnings: Vec<String>,
    /// The raw bytes of the message part or multipart being written.
    copy: Option<RawCopy>,
    /// A write that failed in [`Visitor::raw`], which cannot report it.
    failed: Option<Error>,
}

/// The raw bytes of a composite part on their way out. Held back: the
/// last line end of content and the delimiter lines after it, which may
/// be the delimiter that ends the part.
#[derive(Default)]
struct RawCopy {
    /// Whether the part is a message part (else a multipart).
    message: bool,
    /// Octets written so far.
    taken: u64,
    /// The line end of the last content line.
    eol: Vec<u8>,
    /// Delimiter lines after it.
    delimiters: Vec<Vec<u8>>,
    /// The multipart is closed: what follows up to the next delimiter of
    /// an enclosing multipart (or the end) is its epilogue.
    epilogue: bool,
}

impl RawCopy {
    fn held(&self) -> u64 {
        (self.eol.len() + self.delimiters.iter().map(Vec::len).sum::<usize>()) as u64
    }

    /// Everything held, as it stands.
    fn take_all(&mut self) -> Vec<u8> {
        let mut all = std::mem::take(&mut self.eol);
        all.extend(self.delimiters.drain(..).flatten());
        self.taken += all.len() as u64;
        all
    }

    /// What is held, the part being ended by its last delimiter line: that
    /// line goes, and so does the line end before it unless a closing
    /// delimiter line (with its own line end) comes first.
    fn take_before_delimiter(&mut self) -> Vec<u8> {
        self.delimiters.pop();
        if self.delimiters.is_empty() {
            self.eol.clear();
        }
        self.take_all()
    }
}

impl<W: Write> PartWriter<W> {
    /// A writer of part `id` to `out`.
    pub fn new(id: &str, out: W) -> Self {
        PartWriter {
            id: id.to_string(),
            out,
            found: false,
            ids: Vec::new(),
            warnings: Vec::new(),
            copy: None,
            failed: None,
        }
    }

    /// Writes what is still held (the end of the input has come) and
    /// gives back the output, for the caller to finish; fails when the
    /// part was not found (65, naming the parts there are) or a write
    /// failed.
    pub fn finish(mut self) -> Result<W, Error> {
        if let Some(mut copy) = self.copy.take() {
            self.write(&copy.take_all())?;
        }
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        if !self.found {
            return Err(no_such_part(&self.id, &self.ids));
        }
        Ok(self.out)
    }

    fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        self.out
            .write_all(data)
            .map_err(|e| Error::from_io(ErrorKind::LocalIo, "writing the part", &e))
    }

    /// [`PartWriter::write`] where no error can be returned: the first
    /// failure is kept for later.
    fn write_or_keep(&mut self, data: &[u8]) {
        if self.failed.is_none()
            && let Err(e) = self.write(data)
        {
            self.failed = Some(e);
        }
    }
}

/// The error for a part number that is not in the message: 65, with the
/// numbers there are (the first 50).
pub fn no_such_part(id: &str, ids: &[String]) -> Error {
    const SHOWN: usize = 50;
    let mut list = ids
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        list.push_str(&format!(", ... ({} in all)", ids.len()));
    }
    let id = crate::output::printable(id);
    Error::data(format!(
        "the message has no part {id}; its parts are {list}"
    ))
}

/// The line end that ends `data`, if any.
fn last_eol(data: &[u8]) -> &[u8] {
    if data.ends_with(b"\r\n") {
        &data[data.len() - 2..]
    } else if data.ends_with(b"\n") {
        &data[data.len() - 1..]
    } else {
        &[]
    }
}

impl<W: Write> Visitor for PartWriter<W> {
    fn start(&mut self, part: &Part) -> Result<(), Error> {
        self.ids.push(part.id.clone());
        if part.id == self.id {
            self.found = true;
            if part.kind != PartKind::Leaf {
                self.copy = Some(RawCopy {
                    message: part.kind == PartKind::Message,
                    ..RawCopy::default()
                });
            }
        }
        Ok(())
    }

    fn content(&mut self, part: &Part, data: &[u8]) -> Result<(), Error> {
        if part.id == self.id && self.copy.is_none() {
            self.write(data)?;
        }
        Ok(())
    }

    fn raw(&mut self, piece: &RawPiece) {
        let Some(copy) = &mut self.copy else {
            return;
        };
        if matches!(piece.context, RawContext::Delimiter) {
            if copy.epilogue {
                // The delimiter after the epilogue ends the part.
                copy.eol.clear();
                let rest = copy.take_all();
                self.copy = None;
                self.write_or_keep(&rest);
            } else {
                copy.delimiters.push(piece.data.to_vec());
            }
            return;
        }
        let eol = if piece.ends_line {
            last_eol(piece.data)
        } else {
            &[]
        };
        let content = &piece.data[..piece.data.len() - eol.len()];
        let mut out = copy.take_all();
        out.extend_from_slice(content);
        copy.taken += content.len() as u64;
        copy.eol = eol.to_vec();
        self.write_or_keep(&out);
    }

    fn end(&mut self, part: &Part) -> Result<(), Error> {
        if part.id != self.id {
            return Ok(());
        }
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        let Some(copy) = &mut self.copy else {
            return Ok(());
        };
        let remaining = part.size.saturating_sub(copy.taken);
        let out = if copy.message {
            // A message part's size leaves out its last line end, which
            // the delimiter after it may take: at the end of the input
            // everything held is the part's.
            if remaining + last_eol_len(copy) >= copy.held() {
                copy.take_all()
            } else {
                copy.take_before_delimiter()
            }
        } else if remaining >= copy.held() {
            // Closed by its own delimiter (or cut by the end of input):
            // all of it is the part's, and the epilogue follows.
            copy.epilogue = true;
            copy.take_all()
        } else {
            copy.take_before_delimiter()
        };
        if !copy.epilogue {
            self.copy = None;
        }
        self.write(&out)
    }

    fn problem(&mut self, problem: &Problem) {
        self.warnings.push(problem.to_string());
    }
}

/// The length of the line end that ends what `copy` holds.
fn last_eol_len(copy: &RawCopy) -> u64 {
    match copy.delimiters.last() {
        Some(line) => last_eol(line).len() as u64,
        None => copy.eol.len() as u64,
    }
}

/// Most text `--text` keeps of a body.
const MAX_TEXT: usize = 64 << 20;

/// Collects the readable body: the first text/plain part that is not an
/// attachment, or failing that the first text/html one.
#[derive(Default)]
pub struct TextCollector {
    plain: Option<(String, Option<String>, Vec<u8>)>,
    html: Option<(String, Option<String>, Vec<u8>)>,
    /// Warnings, in order.
    pub warnings: Vec<String>,
    truncated: bool,
}

impl TextCollector {
    /// The readable text as UTF-8, or `None` when the message has none.
    pub fn text(mut self) -> (Option<String>, Vec<String>) {
        if self.truncated {
            self.warnings.push(format!(
                "the text is longer than {} MiB; cut there",
                MAX_TEXT >> 20
            ));
        }
        let text = if let Some((id, charset, bytes)) = self.plain.take() {
            Some(self.convert(&id, charset.as_deref(), &bytes))
        } else if let Some((id, charset, bytes)) = self.html.take() {
            let html = self.convert(&id, charset.as_deref(), &bytes);
            Some(crate::decode::html_to_text(&html))
        } else {
            None
        };
        (text, self.warnings)
    }

    fn convert(&mut self, id: &str, charset: Option<&str>, bytes: &[u8]) -> String {
        let (text, clean) = crate::decode::to_utf8(bytes, charset);
        if !clean {
            self.warnings.push(warning_text(
                Some(id),
                &format!(
                    "charset {:?} unknown or the text invalid in it; decoded as far as possible",
                    charset.unwrap_or("us-ascii")
                ),
            ));
        }
        text
    }

    fn slot(&mut self, part: &Part) -> Option<&mut (String, Option<String>, Vec<u8>)> {
        let slot = match part.content_type.as_str() {
            "text/plain" => &mut self.plain,
            "text/html" => &mut self.html,
            _ => return None,
        };
        slot.as_mut().filter(|(id, _, _)| *id == part.id)
    }
}

impl Visitor for TextCollector {
    fn start(&mut self, part: &Part) -> Result<(), Error> {
        if part.kind != PartKind::Leaf || part.is_attachment() {
            return Ok(());
        }
        let entry = Some((part.id.clone(), part.charset.clone(), Vec::new()));
        match part.content_type.as_str() {
            "text/plain" if self.plain.is_none() => self.plain = entry,
            "text/html" if self.html.is_none() => self.html = entry,
            _ => {}
        }
        Ok(())
    }

    fn content(&mut self, part: &Part, data: &[u8]) -> Result<(), Error> {
        let mut cut = false;
        if let Some((_, _, bytes)) = self.slot(part) {
            let room = MAX_TEXT.saturating_sub(bytes.len());
            bytes.extend_from_slice(&data[..data.len().min(room)]);
            cut = data.len() > room;
        }
        self.truncated |= cut;
        Ok(())
    }

    fn end(&mut self, _: &Part) -> Result<(), Error> {
        Ok(())
    }

    fn problem(&mut self, problem: &Problem) {
        self.warnings.push(problem.to_string());
    }
}
