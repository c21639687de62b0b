//! mime-pack: build a MIME message from a body and attachments. See
//! `mime-pack --help`.

use std::io::{self, IsTerminal};
use std::process::ExitCode;
use std::rc::Rc;

use mailkit::compose::{self, Disposition, Leaf, Plan, Source};
use mailkit::encode::Newline;
use mailkit::tools::mime_pack::Args;
use mailkit::{ExitStatus, cli, input, output};

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
    let fields = header_fields(&args, newline)?;
    let attachments = args
        .attachments
        .iter()
        .chain(&args.attach)
        .map(|spec| compose::leaf_from_spec(spec, Disposition::Attachment, !args.no_legacy_names))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = output::bulk_stdout()?;
    if args.message {
        let message = input::replayable_stdin()?;
        compose::write_onto_message(&mut out, &message, &fields, attachments, newline)?;
        out.finish().map_err(write_error)?;
        return Ok(ExitStatus::Ok);
    }
    let plan = Plan {
        text: text_body(&args)?,
        html: args.html.as_ref().map(|path| Leaf {
            source: Source::File(path.clone()),
            media_type: Some("text/html".into()),
            filename: None,
            disposition: None,
            content_id: None,
            is_body: true,
            legacy_name: false,
        }),
        related: args
            .inline
            .iter()
            .map(|spec| compose::leaf_from_spec(spec, Disposition::Inline, !args.no_legacy_names))
            .collect::<Result<_, _>>()?,
        attachments,
    };
    let tree = compose::build_tree(plan, newline)?;
    let mut all_fields: Vec<String> = fields.into_iter().map(|(_, f)| f).collect();
    all_fields.insert(0, mailkit::header::date_field());
    all_fields.push(mailkit::header::message_id_field(
        from_domain(&args).as_deref(),
    ));
    compose::write_message(&mut out, &all_fields, &tree, newline).map_err(write_error)?;
    out.finish().map_err(write_error)?;
    Ok(ExitStatus::Ok)
}

/// The text body: --body, or stdin unless it is a terminal or --no-body.
fn text_body(args: &Args) -> anyhow::Result<Option<Leaf>> {
    let source = match &args.body {
        Some(path) => Source::File(path.clone()),
        None if args.no_body || io::stdin().is_terminal() => return Ok(None),
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
    Ok(fields)
}

/// The domain of the first From address, for the Message-ID.
fn from_domain(args: &Args) -> Option<String> {
    let list = mailkit::address::parse_address_list(args.from.first()?).ok()?;
    let first = mailkit::address::mailboxes(&list).first()?.domain.clone();
    mailkit::domain::ascii_domain(&first).ok()
}
