//! mime-pack: build a MIME message from a body and attachments. See
//! `mime-pack --help`.

use std::io;
use std::process::ExitCode;
use std::rc::Rc;

use mailkit::compose::{self, Disposition, Leaf, Plan, Source};
use mailkit::encode::Newline;
use mailkit::tools::mime_pack::Args;
use mailkit::{Error, ExitStatus, cli, input, output};

const TOOL: &str = "mime-pack";

fn main() -> ExitCode {
    cli::main(TOOL, run)
}

fn run(args: Args) -> anyhow::Result<ExitStatus> {
    let newline = if args.crlf {
        Newline::CrLf
    } else {
        Newline::Lf
    };
    let mut fields = header_fields(&args, newline)?;
    let mut attachments = args
        .attachments
        .iter()
        .chain(&args.attach)
        .map(|spec| compose::leaf_from_spec(spec, Disposition::Attachment, !args.no_legacy_names))
        .collect::<Result<Vec<_>, _>>()?;
    let stdin_attached = attach_stdin(&args, &mut attachments)?;
    let mut out = output::bulk_stdout()?;
    if args.message {
        let message =
            input::replayable_stdin_checked(compose::MAX_HEADER + 1, compose::check_message_head)?;
        compose::write_onto_message(&mut out, &message, &fields, attachments, newline)?;
        out.finish().map_err(write_error)?;
        return Ok(ExitStatus::Ok);
    }
    let plan = Plan {
        text: text_body(&args, stdin_attached)?,
        html: match &args.html {
            Some(path) => Some(Leaf {
                source: Source::from_path(path)?,
                media_type: Some("text/html".into()),
                filename: None,
                disposition: None,
                content_id: None,
                is_body: true,
                legacy_name: false,
            }),
            None => None,
        },
        related: args
            .inline
            .iter()
            .map(|spec| compose::leaf_from_spec(spec, Disposition::Inline, !args.no_legacy_names))
            .collect::<Result<_, _>>()?,
        attachments,
    };
    let tree = compose::build_tree(plan, newline)?;
    let from = match given(&fields, "from") {
        Some(_) => None,
        None => Some(compose::default_from()?),
    };
    if let Some(from) = &from {
        let field = compose::address_field("From", std::slice::from_ref(from), newline)?;
        fields.insert(0, ("From".into(), field.expect("one address")));
    }
    let from_value = from
        .or_else(|| args.from.first().cloned())
        .or_else(|| header_value(&args.headers, "from"));
    if given(&fields, "date").is_none() {
        fields.insert(0, ("Date".into(), mailkit::header::date_field()));
    }
    if given(&fields, "message-id").is_none() {
        let domain = from_value.as_deref().and_then(domain_of);
        let field = mailkit::header::message_id_field(domain.as_deref());
        fields.push(("Message-ID".into(), field));
    }
    let all_fields: Vec<String> = fields.into_iter().map(|(_, f)| f).collect();
    compose::write_message(&mut out, &all_fields, &tree, newline).map_err(write_error)?;
    out.finish().map_err(write_error)?;
    Ok(ExitStatus::Ok)
}

/// The value of the `--header 'NAME: VALUE'` named `name`.
fn header_value(specs: &[String], name: &str) -> Option<String> {
    let (_, value) = specs
        .iter()
        .filter_map(|spec| spec.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))?;
    Some(value.trim().to_string())
}

/// The rendered field named `name` among `fields`, if given.
fn given<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let found = fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name));
    found.map(|(_, rendered)| rendered.as_str())
}

/// The attachment `-` reads stdin (once; then stdin gives no body).
fn attach_stdin(args: &Args, attachments: &mut [Leaf]) -> anyhow::Result<bool> {
    let mut stdin = attachments.iter_mut().filter(|l| l.source.is_stdin());
    let Some(leaf) = stdin.next() else {
        return Ok(false);
    };
    if stdin.next().is_some() || args.message {
        return Err(Error::usage(
            "stdin can be read once: attach - at most once, and not with --message",
        )
        .into());
    }
    leaf.source = Source::Replayable(Rc::new(input::replayable_stdin()?));
    Ok(true)
}

/// The text body: --body, or stdin unless --no-body or stdin is attached
/// (`-`); a terminal is read too, with a note saying how to end it.
fn text_body(args: &Args, stdin_attached: bool) -> anyhow::Result<Option<Leaf>> {
    let source = match &args.body {
        Some(path) => Source::from_path(path)?,
        None if args.no_body || stdin_attached => return Ok(None),
        None => Source::Replayable(Rc::new(input::replayable_stdin()?)),
    };
    Ok(Some(Leaf {
        source,
        media_type: Some("text/plain".into()),
        filename: None,
        disposition: None,
        content_id: None,
        is_body: true,
        legacy_name: false,
    }))
}

fn write_error(e: io::Error) -> anyhow::Error {
    anyhow::Error::new(e).context("writing the message")
}

/// The fields given on the command line, in the usual order, each with
/// its name (so --message can replace the message's own).
fn header_fields(args: &Args, newline: Newline) -> anyhow::Result<Vec<(String, String)>> {
    let mut fields = Vec::new();
    for (name, values) in [
        ("From", &args.from),
        ("To", &args.to),
        ("Cc", &args.cc),
        ("Bcc", &args.bcc),
        ("Reply-To", &args.reply_to),
    ] {
        if let Some(field) = compose::address_field(name, values, newline)? {
            fields.push((name.to_string(), field));
        }
    }
    if let Some(subject) = &args.subject {
        fields.push((
            "Subject".into(),
            compose::unstructured_field("Subject", subject, newline)?,
        ));
    }
    for spec in &args.headers {
        fields.push(compose::custom_field(spec, newline)?);
    }
    compose::refuse_repeated(&fields)?;
    Ok(fields)
}

/// The domain of the first address of a From value, for the Message-ID.
fn domain_of(from: &str) -> Option<String> {
    let list = mailkit::address::parse_address_list(from).ok()?;
    let first = mailkit::address::mailboxes(&list).first()?.domain.clone();
    mailkit::domain::ascii_domain(&first).ok()
}
