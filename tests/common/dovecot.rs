//! Dovecot, a real IMAP/POP3/LMTP server, on loopback with Maildirs of its
//! own (see the notes in shared/notes/real-servers.md, section 3).
//!
//! Users: `alice`/`alicepw`, `bob`/`bobpw` and `relay`/`relaypw` (where Exim
//! puts mail for other domains that an authenticated client relays), more
//! with [`Dovecot::add_user`]. Logins work as `alice` and as
//! `alice@example.test`; LMTP accepts `alice@example.test` (any case).
//!
//! Start Dovecot before Exim and drop it after: declare the `Dovecot`
//! variable first, since Rust drops locals in reverse order of declaration.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::tlscert::TlsCert;
use super::{Daemon, Scratch, set_mode};

/// A running Dovecot (stopped on drop, ~0.1 s) and its ports on 127.0.0.1.
pub struct Dovecot {
    /// IMAP with STARTTLS.
    pub imap: u16,
    /// IMAP over TLS (0 without TLS).
    pub imaps: u16,
    /// POP3 with STLS.
    pub pop3: u16,
    /// POP3 over TLS (0 without TLS).
    pub pop3s: u16,
    /// LMTP (no TLS needed).
    pub lmtp: u16,
    /// The server certificate, which is also the trust root to use.
    pub cert: PathBuf,
    /// The hierarchy separator LIST shows: `.` (Dovecot's Maildir++
    /// default), `/` with [`DovecotOptions::special_use`].
    pub separator: char,
    /// Its private key.
    pub key: PathBuf,
    dir: PathBuf,
    /// uid and gid that own the mail (nobody when running as root).
    mail_owner: (u32, u32),
    // Field order matters: the daemon is stopped before the directory goes.
    _daemon: Daemon,
    _scratch: Scratch,
    /// Where `home` points with [`DovecotOptions::mail_in_memory`].
    _memory: Option<tempfile::TempDir>,
}

/// How a Dovecot differs from the default one ([`Dovecot::start_with`]).
#[derive(Debug, Clone, Default)]
pub struct DovecotOptions {
    /// Also offer APOP (`auth_mechanisms = plain login apop`): the POP3
    /// greeting then ends in a `<timestamp>` (RFC 1939 §7).
    pub apop: bool,
    /// No TLS at all (`ssl = no`): no STLS or STARTTLS is offered and there
    /// are no IMAPS and POP3S listeners (their ports are 0).
    pub no_tls: bool,
    /// The certificate's common name and subject alternative names (as
    /// [`TlsCert::generate_for`] takes them) instead of localhost and
    /// 127.0.0.1.
    pub cert_names: Option<(String, String)>,
    /// One POP3 session at a time per mailbox (`pop3_lock_session = yes`):
    /// a second login gets `-ERR [IN-USE]`.
    pub pop3_lock_session: bool,
    /// Special-use folders (RFC 6154): `Sent`, `Drafts`, `Trash` and `Junk`,
    /// made in alice's Maildir at start (for other users at their first
    /// login), listed with `\Sent`, `\Drafts`, `\Trash` and `\Junk`;
    /// `SPECIAL-USE` among the capabilities after login. The INBOX
    /// namespace then has the hierarchy separator `/` (on disk still
    /// Maildir++ `.NAME.SUB`).
    pub special_use: bool,
    /// The users' homes (their Maildirs) on tmpfs (`/dev/shm`, where there
    /// is one): for a test of 100 000 messages, whose files a busy disk
    /// takes tens of seconds to create and as long again to remove, but
    /// tmpfs a few (at ~4 KiB of memory each).
    pub mail_in_memory: bool,
    /// What IMAP announces after login instead of Dovecot's long list
    /// (`imap_capability`), e.g. `IMAP4rev1 LITERAL+` for a client's
    /// paths without LIST-STATUS, SPECIAL-USE or ENABLE. Dovecot still
    /// understands what it no longer announces.
    pub imap_capability: Option<String>,
}

/// The special-use folders of [`DovecotOptions::special_use`], with their
/// attributes.
pub const SPECIAL_USE: [(&str, &str); 4] = [
    ("Sent", "\\Sent"),
    ("Drafts", "\\Drafts"),
    ("Trash", "\\Trash"),
    ("Junk", "\\Junk"),
];

/// The namespace block that adds the special-use folders (the recipe in
/// shared/notes/real-servers.md §3, without the quota and zlib plugins).
fn special_use_namespace() -> String {
    let mut block = String::from("namespace inbox {\n  inbox = yes\n  separator = /\n");
    for (name, attribute) in SPECIAL_USE {
        block.push_str(&format!(
            "  mailbox {name} {{\n    special_use = {attribute}\n    auto = subscribe\n  }}\n"
        ));
    }
    block.push_str("}\n");
    block
}

/// A new directory (mode 755) on tmpfs, if the machine has `/dev/shm`.
fn memory_dir() -> Option<tempfile::TempDir> {
    if !Path::new("/dev/shm").is_dir() {
        return None;
    }
    let dir = tempfile::Builder::new()
        .prefix("mk.")
        .tempdir_in("/dev/shm")
        .ok()?;
    set_mode(dir.path(), 0o755);
    Some(dir)
}

/// An implicit-TLS listener block (inside a `service`), or nothing when
/// `port` is 0.
fn tls_listener(name: &str, port: u16) -> String {
    match port {
        0 => String::new(),
        _ => format!("  inet_listener {name} {{\n    port = {port}\n    ssl = yes\n  }}\n"),
    }
}

impl Dovecot {
    /// Starts Dovecot with users alice, bob and relay, and waits until IMAP,
    /// POP3 and LMTP greet (~50 ms).
    pub fn start() -> Dovecot {
        Dovecot::start_with(&DovecotOptions::default())
    }

    /// Starts Dovecot as [`Dovecot::start`] does, changed by `options`.
    pub fn start_with(options: &DovecotOptions) -> Dovecot {
        retry_port_clash(|| Dovecot::start_once(options))
    }

    fn start_once(options: &DovecotOptions) -> Dovecot {
        let scratch = Scratch::new();
        let d = scratch.subdir("dovecot");
        let tls = match &options.cert_names {
            Some((name, alt_names)) => TlsCert::generate_for(&d, name, alt_names),
            None => TlsCert::generate(&d),
        };
        let ports = free_ports(5);
        let (imap, mut imaps, pop3, mut pop3s, lmtp) =
            (ports[0], ports[1], ports[2], ports[3], ports[4]);
        if options.no_tls {
            (imaps, pop3s) = (0, 0);
        }
        let root = is_root();
        let (mail_owner, extra) = if root {
            // Dovecot refuses uid 0 for mail access.
            let owner = (id(&["-u", "nobody"]), id(&["-g", "nobody"]));
            (owner, String::new())
        } else {
            let owner = (id(&["-u"]), id(&["-g"]));
            let (user, group) = (id_text(&["-un"]), id_text(&["-gn"]));
            let extra = format!(
                "default_internal_user = {user}\ndefault_internal_group = {group}\n\
                 default_login_user = {user}\n\
                 service anvil {{\n  chroot =\n}}\nservice imap-login {{\n  chroot =\n}}\n\
                 service pop3-login {{\n  chroot =\n}}\n"
            );
            (owner, extra)
        };
        let conf = format!(
            "instance_name = dovecot-{imap}\n\
             base_dir = {d}/run\n\
             state_dir = {d}/state\n\
             log_path = {d}/dovecot.log\n\
             protocols = imap pop3 lmtp\n\
             listen = 127.0.0.1\n\
             hostname = mail.example.test\n\
             ssl = {ssl}\n\
             ssl_cert = <{cert}\n\
             ssl_key = <{key}\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = {mechanisms}\n\
             auth_username_format = %Ln\n\
             auth_failure_delay = 0\n\
             first_valid_uid = 1\n\
             mail_location = maildir:~/Maildir\n\
             default_process_limit = 20\n\
             default_client_limit = 200\n\
             pop3_lock_session = {lock}\n\
             passdb {{\n  driver = passwd-file\n  args = {d}/passwd\n}}\n\
             userdb {{\n  driver = passwd-file\n  args = {d}/passwd\n}}\n\
             service anvil {{\n  unix_listener anvil-auth-penalty {{\n    mode = 0\n  }}\n}}\n\
             service auth {{\n  unix_listener auth-smtp {{\n    mode = 0666\n  }}\n}}\n\
             service imap-login {{\n\
             \x20 inet_listener imap {{\n    port = {imap}\n  }}\n\
             {imaps_listener}}}\n\
             service pop3-login {{\n\
             \x20 inet_listener pop3 {{\n    port = {pop3}\n  }}\n\
             {pop3s_listener}}}\n\
             service lmtp {{\n\
             \x20 inet_listener lmtp {{\n    address = 127.0.0.1\n    port = {lmtp}\n  }}\n}}\n\
             {extra}{namespace}{capability}",
            d = d.display(),
            capability = match &options.imap_capability {
                Some(names) => format!("protocol imap {{\n  imap_capability = {names}\n}}\n"),
                None => String::new(),
            },
            namespace = if options.special_use {
                special_use_namespace()
            } else {
                String::new()
            },
            ssl = if options.no_tls { "no" } else { "yes" },
            lock = if options.pop3_lock_session {
                "yes"
            } else {
                "no"
            },
            mechanisms = if options.apop {
                "plain login apop"
            } else {
                "plain login"
            },
            imaps_listener = tls_listener("imaps", imaps),
            pop3s_listener = tls_listener("pop3s", pop3s),
            cert = tls.cert.display(),
            key = tls.key.display(),
        );
        std::fs::write(d.join("dovecot.conf"), conf).expect("write dovecot.conf");
        let memory = options.mail_in_memory.then(memory_dir).flatten();
        match &memory {
            Some(dir) => {
                std::os::unix::fs::symlink(dir.path(), d.join("home")).expect("link home to tmpfs")
            }
            None => std::fs::create_dir_all(d.join("home")).expect("create home"),
        }
        set_mode(&d.join("home"), 0o755);
        let mut command = Command::new("/usr/sbin/dovecot");
        command.arg("-F").arg("-c").arg(d.join("dovecot.conf"));
        let passwd = d.join("passwd");
        std::fs::write(&passwd, "").expect("write passwd");
        std::fs::write(d.join("users"), "").expect("write users");
        for (user, password) in [("alice", "alicepw"), ("bob", "bobpw"), ("relay", "relaypw")] {
            add_user_files(&d, mail_owner, user, password);
        }
        let daemon = Daemon::start("dovecot", command, d.join("stdout.log"), || {
            greets(imap, "* OK") && greets(pop3, "+OK") && greets(lmtp, "220 ")
        });
        let dovecot = Dovecot {
            imap,
            imaps,
            pop3,
            pop3s,
            lmtp,
            cert: tls.cert,
            separator: if options.special_use { '/' } else { '.' },
            key: tls.key,
            dir: d,
            mail_owner,
            _daemon: daemon,
            _scratch: scratch,
            _memory: memory,
        };
        if options.special_use {
            for (name, _) in SPECIAL_USE {
                dovecot.create_folder("alice", name);
            }
        }
        dovecot
    }

    /// Adds a user (letters, digits, `.`, `_`, `-`) with a password (no `:`
    /// or line breaks) and an empty Maildir; Dovecot and any Exim started
    /// on this Dovecot see it at once.
    pub fn add_user(&self, user: &str, password: &str) {
        add_user_files(&self.dir, self.mail_owner, user, password);
    }

    /// The user's Maildir (`…/home/USER/Maildir`).
    pub fn maildir(&self, user: &str) -> PathBuf {
        self.dir.join("home").join(user).join("Maildir")
    }

    /// The raw bytes of every message in the user's `new/` and `cur/`, in
    /// delivery order (by the time stamp that starts each file name, then
    /// by name). Dovecot stores LF line ends, whatever came over the wire.
    pub fn delivered(&self, user: &str) -> Vec<Vec<u8>> {
        let maildir = self.maildir(user);
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') && entry.path().is_file() {
                    files.push((order_key(&name), entry.path()));
                }
            }
        }
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, path)| std::fs::read(path).ok())
            .collect()
    }

    /// Waits until the user has at least `count` messages (delivery through
    /// Exim takes ~30 ms after "250 OK") and returns them all; panics with
    /// the Dovecot log after `timeout`.
    pub fn wait_for_messages(&self, user: &str, count: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.delivered(user);
            if messages.len() >= count {
                return messages;
            }
            if Instant::now() > deadline {
                panic!(
                    "{user} has {} message(s), not {count}, after {timeout:?}; Dovecot log:\n{}",
                    messages.len(),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// An endpoint for alice on 127.0.0.1:`port` with `tls`, trusting the
    /// test certificate, logging in with `password`: what library tests
    /// connect a session with.
    pub fn endpoint(
        &self,
        port: u16,
        tls: mailkit::net::connection::TlsMode,
        password: &str,
    ) -> mailkit::net::session::Endpoint {
        use mailkit::net::connection::TlsSettings;
        use mailkit::net::credentials::Secret;
        use mailkit::net::session::{Endpoint, Login};
        Endpoint {
            host: "127.0.0.1".into(),
            port,
            tls,
            certificate: TlsSettings {
                cafile: Some(self.cert.clone()),
                ..TlsSettings::default()
            },
            tls_name: None,
            timeout: Duration::from_secs(10),
            login: Some(Login {
                user: "alice".into(),
                secret: Secret::new(password.into()),
                oauth: false,
            }),
            allow_plaintext_auth: false,
        }
    }

    /// Puts a message into the user's `new/` directly, as if delivered (for
    /// IMAP/POP3 tests); returns its path.
    pub fn deposit(&self, user: &str, message: &[u8]) -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let maildir = self.maildir(user);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let name = format!(
            "{}.M{}P{}Q{}.test",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let tmp = maildir.join("tmp").join(&name);
        std::fs::write(&tmp, message).expect("write the message");
        set_mode(&tmp, 0o644);
        chown(&tmp, self.mail_owner);
        let new = maildir.join("new").join(&name);
        std::fs::rename(&tmp, &new).expect("move the message into new/");
        new
    }

    /// Puts many messages into the user's `new/` at once (thousands in well
    /// under a second), named so that Dovecot numbers them in the order
    /// given when it next opens the mailbox: Dovecot sorts new files by the
    /// time stamp in their names (seconds, then the `M` microseconds),
    /// which here count up from now by one microsecond a message. Returns
    /// the paths, in that order.
    pub fn deposit_many<'a>(
        &self,
        user: &str,
        messages: impl IntoIterator<Item = &'a [u8]>,
    ) -> Vec<PathBuf> {
        let maildir = self.maildir(user);
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let mut paths = Vec::new();
        for (i, message) in messages.into_iter().enumerate() {
            let at = start + Duration::from_micros(i as u64);
            let name = format!(
                "{}.M{}P{}B{i}.test",
                at.as_secs(),
                at.subsec_micros(),
                std::process::id()
            );
            let tmp = maildir.join("tmp").join(&name);
            std::fs::write(&tmp, message).expect("write the message");
            set_mode(&tmp, 0o644);
            chown(&tmp, self.mail_owner);
            let new = maildir.join("new").join(&name);
            std::fs::rename(&tmp, &new).expect("move the message into new/");
            paths.push(new);
        }
        paths
    }

    /// Every message file of the user's Maildir, as `new/NAME` or
    /// `cur/NAME` (flags included, e.g. `cur/…:2,S` once seen) with its
    /// bytes: a snapshot to compare before and after a client ran.
    pub fn mail_files(&self, user: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
        let maildir = self.maildir(user);
        let mut files = std::collections::BTreeMap::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') && entry.path().is_file() {
                    let bytes = std::fs::read(entry.path()).expect("read a message file");
                    files.insert(format!("{sub}/{name}"), bytes);
                }
            }
        }
        files
    }

    /// Dovecot's log and its stdout/stderr, for diagnosis.
    pub fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default();
        let out = std::fs::read_to_string(self.dir.join("stdout.log")).unwrap_or_default();
        format!("{log}{out}")
    }

    /// The configuration file (for `doveadm -c`).
    pub fn config(&self) -> PathBuf {
        self.dir.join("dovecot.conf")
    }

    /// The user list `NAME: PASSWORD` (an Exim lsearch file), kept in step
    /// with Dovecot's own passwd file by [`Dovecot::add_user`].
    pub fn users_file(&self) -> PathBuf {
        self.dir.join("users")
    }
}

/// Folders and messages written straight into the Maildir++ layout, as
/// Dovecot (`mail_location = maildir:~/Maildir`) keeps them: the folder
/// `A<sep>B` is the directory `Maildir/.A.B` with `cur`, `new` and `tmp`,
/// each level's name in modified UTF-7 (RFC 3501 §5.1.3) and otherwise as
/// it is (`"` and `\` included, as Dovecot itself stores them). INBOX is
/// the Maildir itself. Dovecot numbers messages it has not seen before in
/// the order of the time stamps that start their file names; every
/// message put here gets a later stamp than the one before, so UIDs
/// follow the order of the calls.
impl Dovecot {
    /// The directory of `folder` (a name as LIST shows it, in UTF-8, levels
    /// split by [`Dovecot::separator`]; `INBOX` is the Maildir).
    pub fn folder_dir(&self, user: &str, folder: &str) -> PathBuf {
        let maildir = self.maildir(user);
        if folder == "INBOX" {
            return maildir;
        }
        let levels: Vec<String> = folder
            .split(self.separator)
            .map(|level| {
                assert!(
                    !level.is_empty() && !level.contains(['.', '/']),
                    "{folder:?} cannot be a Maildir++ folder with separator {:?}",
                    self.separator
                );
                mailkit::imap::mailbox_name::encode(level)
            })
            .collect();
        maildir.join(format!(".{}", levels.join(".")))
    }

    /// Makes `folder` (see [`Dovecot::folder_dir`]) and returns its
    /// directory; an existing folder is kept as it is. Parents of a nested
    /// folder are made too, as a client's CREATE would (Dovecot would list
    /// them as `\NonExistent` otherwise).
    pub fn create_folder(&self, user: &str, folder: &str) -> PathBuf {
        let mut name = String::new();
        for level in folder.split(self.separator) {
            if !name.is_empty() {
                name.push(self.separator);
            }
            name.push_str(level);
            let dir = self.folder_dir(user, &name);
            for sub in ["", "cur", "new", "tmp"] {
                let path = dir.join(sub);
                if !path.is_dir() {
                    std::fs::create_dir(&path).expect("create a Maildir++ folder");
                    set_mode(&path, 0o755);
                    chown(&path, self.mail_owner);
                }
            }
        }
        self.folder_dir(user, folder)
    }

    /// Puts `message` into `folder`'s `new/` (made if missing): unseen and
    /// `\Recent`. Returns its path.
    pub fn deposit_in(&self, user: &str, folder: &str, message: &[u8]) -> PathBuf {
        self.deposit_flagged(user, folder, message, None)
    }

    /// Puts `message` into `folder`'s `cur/` with Maildir flags `flags`
    /// (`S` seen, `R` answered, `F` flagged, `T` deleted, `D` draft, in
    /// ASCII order): the name ends in `:2,FLAGS`. Returns its path.
    pub fn deposit_with_flags(
        &self,
        user: &str,
        folder: &str,
        message: &[u8],
        flags: &str,
    ) -> PathBuf {
        self.deposit_flagged(user, folder, message, Some(flags))
    }

    fn deposit_flagged(
        &self,
        user: &str,
        folder: &str,
        message: &[u8],
        flags: Option<&str>,
    ) -> PathBuf {
        let dir = self.create_folder(user, folder);
        let name = stamped_name(next_stamps(1), 0);
        let tmp = dir.join("tmp").join(&name);
        std::fs::write(&tmp, message).expect("write the message");
        set_mode(&tmp, 0o644);
        chown(&tmp, self.mail_owner);
        let path = match flags {
            None => dir.join("new").join(&name),
            Some(flags) => dir.join("cur").join(format!("{name}:2,{flags}")),
        };
        std::fs::rename(&tmp, &path).expect("move the message into place");
        path
    }

    /// Writes many messages into `folder`'s `cur/` (made if missing) as
    /// fast as the file system goes (100 000 small ones in ~3 s): named
    /// `…:2,` (no flags: unseen), with no `tmp/` step, so no session may
    /// have the folder open meanwhile. UIDs follow the order given.
    /// Returns how many were written. Dovecot indexes 100 000 such files
    /// in ~0.6 s on the first EXAMINE or STATUS.
    pub fn deposit_many_in<M: AsRef<[u8]> + Send>(
        &self,
        user: &str,
        folder: &str,
        messages: impl ExactSizeIterator<Item = M> + Send,
    ) -> usize {
        let cur = self.create_folder(user, folder).join("cur");
        let count = messages.len();
        let start = next_stamps(count as u64);
        let owner = self.mail_owner;
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    // Files made by this thread belong to the mail owner
                    // without a chown each (which is slow: ~0.5 ms).
                    as_mail_owner(owner);
                    for (i, message) in messages.enumerate() {
                        let path = cur.join(format!("{}:2,", stamped_name(start, i as u64)));
                        std::fs::write(&path, message).expect("write the message");
                    }
                })
                .join()
                .expect("write the messages")
        });
        count
    }

    /// Every message file of `folder`, as `new/NAME` or `cur/NAME` (flags
    /// included) with its bytes ([`Dovecot::mail_files`] for any folder).
    pub fn mail_files_in(
        &self,
        user: &str,
        folder: &str,
    ) -> std::collections::BTreeMap<String, Vec<u8>> {
        let dir = self.folder_dir(user, folder);
        let mut files = std::collections::BTreeMap::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') && entry.path().is_file() {
                    let bytes = std::fs::read(entry.path()).expect("read a message file");
                    files.insert(format!("{sub}/{name}"), bytes);
                }
            }
        }
        files
    }
}

/// Makes the calling thread (only it: Linux keeps these per thread, and
/// the libc wrappers change only the caller) create files as `owner` when
/// running as root.
fn as_mail_owner((uid, gid): (u32, u32)) {
    if is_root() {
        // SAFETY: plain system calls on this thread's own credentials.
        unsafe {
            libc::setfsgid(gid);
            libc::setfsuid(uid);
        }
    }
}

/// Reserves `count` consecutive Maildir time stamps (microseconds since
/// the epoch), later than any handed out before in this process and not
/// earlier than now; returns the first.
fn next_stamps(count: u64) -> u64 {
    use std::sync::Mutex;
    static LAST: Mutex<u64> = Mutex::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let first = now.max(*last + 1);
    *last = first + count.max(1) - 1;
    first
}

/// A unique Maildir base name `SECS.M<usecs>P<pid>S<i>.test` for the
/// stamp `first + i`.
fn stamped_name(first: u64, i: u64) -> String {
    let at = first + i;
    format!(
        "{}.M{}P{}S{at}.test",
        at / 1_000_000,
        at % 1_000_000,
        std::process::id()
    )
}

impl Drop for Dovecot {
    /// Stops Dovecot in ~0.1 s instead of ~1.1 s: after SIGTERM its master
    /// waits for its children, signals the log process and then sleeps a
    /// fixed second before it exits. Once only the log process is left,
    /// nothing is lost by ending the master with SIGKILL (the log process
    /// then exits by itself). The [`Daemon`] field reaps the master after
    /// this; without /proc, the plain SIGTERM path still works.
    fn drop(&mut self) {
        let Some(pid) = self.master_pid() else {
            return;
        };
        // SAFETY: `pid` is our own unreaped child (checked), so the number
        // cannot have been reused.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match only_log_left(pid) {
                Some(true) => {
                    // SAFETY: as above.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    return;
                }
                Some(false) => std::thread::sleep(Duration::from_millis(5)),
                None => return,
            }
        }
    }
}

impl Dovecot {
    /// The master's pid from its pid file, if it is our own child.
    fn master_pid(&self) -> Option<libc::pid_t> {
        let text = std::fs::read_to_string(self.dir.join("run/master.pid")).ok()?;
        let pid: libc::pid_t = text.trim().parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let parent: u32 = stat_fields(&stat)?.get(1)?.parse().ok()?;
        (parent == std::process::id()).then_some(pid)
    }
}

/// Whether the master has reaped all of its children but the log process
/// (`Some(true)`), or `None` when /proc cannot tell. Waiting for the reaping
/// leaves no zombies behind for init.
fn only_log_left(master: libc::pid_t) -> Option<bool> {
    let stat = std::fs::read_to_string(format!("/proc/{master}/stat")).ok()?;
    if stat_fields(&stat)?.first()? == &"Z" {
        return Some(true);
    }
    let children =
        std::fs::read_to_string(format!("/proc/{master}/task/{master}/children")).ok()?;
    for child in children.split_whitespace() {
        match std::fs::read_to_string(format!("/proc/{child}/comm")) {
            Ok(comm) if comm.trim() == "log" => {}
            Ok(_) => return Some(false),
            Err(_) => {} // reaped meanwhile
        }
    }
    Some(true)
}

/// The fields of /proc/PID/stat after the command name: state, ppid, ….
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().collect())
}

/// Adds `user` to Dovecot's passwd file and to the plain users file, and
/// makes the user's Maildir.
fn add_user_files(d: &Path, owner: (u32, u32), user: &str, password: &str) {
    assert!(
        !user.is_empty()
            && user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
        "unsuitable user name {user:?}"
    );
    assert!(
        !password.is_empty()
            && !password.contains([':', '\n', '\r'])
            && password.trim() == password,
        "unsuitable password {password:?}"
    );
    let home = d.join("home").join(user);
    let maildir = home.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("create the Maildir");
    }
    for dir in [
        home.clone(),
        maildir.clone(),
        maildir.join("cur"),
        maildir.join("new"),
        maildir.join("tmp"),
    ] {
        set_mode(&dir, 0o755);
        chown(&dir, owner);
    }
    let (uid, gid) = owner;
    append(
        &d.join("passwd"),
        &format!(
            "{user}:{{PLAIN}}{password}:{uid}:{gid}::{}::\n",
            home.display()
        ),
    );
    append(&d.join("users"), &format!("{user}: {password}\n"));
}

fn append(path: &Path, line: &str) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open for appending");
    file.write_all(line.as_bytes()).expect("append");
    set_mode(path, 0o644);
}

fn chown(path: &Path, (uid, gid): (u32, u32)) {
    if is_root() {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
    }
}

/// Sorts Maildir names `SECS.M<usecs>P…` by time (the microseconds are not
/// zero-padded, so plain name order would be wrong within a second).
fn order_key(name: &str) -> (u64, u64, String) {
    let mut parts = name.split('.');
    let secs = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX);
    let usecs = parts
        .next()
        .and_then(|s| s.strip_prefix('M'))
        .map(|s| {
            s.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (secs, usecs, name.to_string())
}

/// Whether the tests run as root (the servers then drop to their own users).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn id_text(args: &[&str]) -> String {
    let output = Command::new("id").args(args).output().expect("run id");
    assert!(output.status.success(), "id {args:?} failed");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

fn id(args: &[&str]) -> u32 {
    id_text(args).parse().expect("a numeric id")
}

/// `n` distinct ports that are free on 127.0.0.1 right now, never handed
/// out before in this process, and outside the kernel's range for the
/// local end of outgoing connections (so that no client socket, such as a
/// test's own or Exim's to LMTP, can take one before the server binds it).
pub fn free_ports(n: usize) -> Vec<u16> {
    use std::collections::BTreeSet;
    use std::hash::{BuildHasher, RandomState};
    use std::sync::Mutex;
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let (low, high) = server_port_range();
    let random = RandomState::new();
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let mut ports = Vec::with_capacity(n);
    for attempt in 0u64.. {
        if ports.len() == n {
            break;
        }
        assert!(attempt < 100_000, "no free ports in {low}..={high}");
        let port = low + (random.hash_one(attempt) % u64::from(high - low + 1)) as u16;
        if !given.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            ports.push(port);
        }
    }
    ports
}

/// Ports for servers: below the ephemeral range (usually 32768–60999),
/// else above it, else anything unprivileged.
fn server_port_range() -> (u16, u16) {
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut numbers = text.split_whitespace().map(|n| n.parse::<u16>().ok());
            Some((numbers.next()??, numbers.next()??))
        })
        .unwrap_or((32768, 60999));
    match ephemeral {
        (low, _) if low > 12_000 => (10_000, low - 1),
        (_, high) if high < 63_000 => (high + 1, 65_535),
        _ => (1024, 65_535),
    }
}

/// Runs `start` again (up to 5 times in all) when the server could not
/// listen because another process took one of its ports between the check
/// and the server's bind; other failures panic at once.
pub fn retry_port_clash<T>(start: impl Fn() -> T) -> T {
    let mut attempt = 1;
    loop {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(&start)) {
            Ok(server) => return server,
            Err(panic) => {
                let text = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("");
                if attempt == 5 || !text.contains("Address already in use") {
                    std::panic::resume_unwind(panic);
                }
                attempt += 1;
            }
        }
    }
}

/// Whether a server on `port` accepts a connection and sends a first line
/// starting with `prefix` (a greeting such as `* OK`, `+OK`, `220 `).
pub fn greets(port: u16, prefix: &str) -> bool {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    // The greeting waits until Dovecot's auth process is ready (~50 ms).
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok();
    let mut line = String::new();
    let mut reader = BufReader::new(&stream);
    if reader.read_line(&mut line).is_err() || !line.starts_with(prefix) {
        return false;
    }
    // Say goodbye politely, so that logs show no lost connections.
    let goodbye: &[u8] = match prefix {
        "* OK" => b"a LOGOUT\r\n",
        _ => b"QUIT\r\n",
    };
    let _ = (&stream).write_all(goodbye);
    true
}
