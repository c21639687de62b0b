//! Each tool's command-line definition, kept in the library so that the man
//! pages and shell completions are generated from the very same clap
//! definitions the binaries parse.

pub mod mx_lookup;

/// Every tool's clap command, for generating man pages and completions.
pub fn commands() -> Vec<clap::Command> {
    use clap::CommandFactory;
    vec![mx_lookup::Args::command()]
}

/// The exit status table of the contract, for each tool's man page.
pub const EXIT_STATUS_HELP: &str = "\
Exit status (sysexits.h, the same in every mailkit tool):
  0   done
  1   tool-specific negative answer
  64  usage error
  65  input data unusable
  66  input file missing or unreadable
  67  recipient, mailbox or folder does not exist or was rejected
  68  host or domain does not exist, or no mail route
  69  permanent failure (SMTP 5xx, null MX, service refused)
  73  cannot create an output file
  74  local I/O error
  75  temporary failure: retry later
  76  protocol error, TLS or certificate failure
  77  authentication failed
  78  configuration error";
