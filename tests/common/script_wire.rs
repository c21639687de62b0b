//! What the scripted SMTP, POP3 and IMAP servers of the adversarial suites
//! share below their protocols: listening on 127.0.0.1 and serving a set
//! number of connections one after the other, counting the attempts made
//! beyond them; a connection that records every byte it reads (in plain
//! text, and decrypted after STARTTLS) and upgrades to TLS with the
//! script's certificate; and the faults that are the same in every
//! protocol: endless data, a byte at a time, garbage or slowness in place
//! of a TLS handshake, resets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod};

/// How long a scripted server waits for a client that says nothing, and
/// the longest any fault goes on.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A server serving its scripted connections on a thread.
pub struct Listening<L> {
    /// The port on 127.0.0.1.
    pub port: u16,
    handle: JoinHandle<(L, TcpListener)>,
}

/// A log that counts connection attempts beyond the scripted ones.
pub trait CountsExtra {
    /// One more attempt was waiting once the scripted connections ended.
    fn extra_connection(&mut self);
}

/// Listens on a free port of 127.0.0.1 and has `converse` serve up to
/// `connections` connections, one after the other, each accepted within
/// `wait`, all writing into one log.
pub fn serve<L, F>(connections: usize, wait: Duration, mut converse: F) -> Listening<L>
where
    L: Default + Send + 'static,
    F: FnMut(TcpStream, &mut L) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let mut log = L::default();
        for _ in 0..connections {
            let Some(stream) = accept(&listener, wait) else {
                break;
            };
            converse(stream, &mut log);
        }
        (log, listener)
    });
    Listening { port, handle }
}

impl<L> Listening<L> {
    /// Waits for the scripted connections to end and gives the log.
    pub fn join(self) -> L {
        self.handle.join().unwrap().0
    }
}

impl<L: CountsExtra> Listening<L> {
    /// Waits for the scripted connections to end (call once the client has
    /// exited), then counts the connection attempts waiting beyond them.
    pub fn finish(self) -> L {
        let (mut log, listener) = self.handle.join().unwrap();
        listener.set_nonblocking(true).unwrap();
        while listener.accept().is_ok() {
            log.extra_connection();
        }
        log
    }
}

/// The next connection, within `wait`.
fn accept(listener: &TcpListener, wait: Duration) -> Option<TcpStream> {
    let deadline = Instant::now() + wait;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                return Some(stream);
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => return None,
        }
    }
}

/// The TLS acceptor of a certificate chain and key (PEM files).
pub fn acceptor(cert: &Path, key: &Path) -> SslAcceptor {
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
    acceptor
        .set_private_key_file(key, SslFiletype::PEM)
        .unwrap();
    acceptor.set_certificate_chain_file(cert).unwrap();
    acceptor.build()
}

/// A byte stream, plain or TLS.
trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// A stream that keeps a copy of every byte read from it.
pub struct Recorder {
    inner: Box<dyn Stream>,
    got: Arc<Mutex<Vec<u8>>>,
}

impl Read for Recorder {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.got.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// One connection as a scripted server sees it: read by line, written
/// without minding a client that hung up, every byte read recorded.
pub struct Wire {
    tcp: TcpStream,
    io: BufReader<Recorder>,
    plain: Arc<Mutex<Vec<u8>>>,
    tls_bytes: Arc<Mutex<Vec<u8>>>,
    tls: bool,
}

impl Wire {
    /// A plain connection; reads and writes give up after [`PATIENCE`].
    pub fn new(tcp: TcpStream) -> Wire {
        tcp.set_read_timeout(Some(PATIENCE)).unwrap();
        tcp.set_write_timeout(Some(PATIENCE)).unwrap();
        let plain = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder {
            inner: Box::new(tcp.try_clone().unwrap()),
            got: Arc::clone(&plain),
        };
        Wire {
            tcp,
            io: BufReader::new(recorder),
            plain,
            tls_bytes: Arc::new(Mutex::new(Vec::new())),
            tls: false,
        }
    }

    /// Whether the connection is under TLS.
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// The socket (for timeouts and peeking).
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// The buffered stream, for reads other than by line.
    pub fn reader(&mut self) -> &mut BufReader<Recorder> {
        &mut self.io
    }

    /// The next line with its line end; `None` at the end of the stream.
    pub fn raw_line(&mut self) -> Option<Vec<u8>> {
        let mut line = Vec::new();
        match self.io.read_until(b'\n', &mut line) {
            Ok(n) if n > 0 => Some(line),
            _ => None,
        }
    }

    /// The next line, trailing white space removed, as text; `None` at the
    /// end of the stream.
    pub fn line(&mut self) -> Option<String> {
        let line = self.raw_line()?;
        Some(String::from_utf8_lossy(&line).trim_end().to_string())
    }

    /// Writes and flushes; a client that hung up is not an error here.
    pub fn send(&mut self, bytes: &[u8]) {
        self.send_checked(bytes);
    }

    /// Writes and flushes; whether the client still takes bytes.
    pub fn send_checked(&mut self, bytes: &[u8]) -> bool {
        let writer = self.io.get_mut();
        writer
            .write_all(bytes)
            .and_then(|()| writer.flush())
            .is_ok()
    }

    /// `bytes` one at a time, each followed by a pause of `every`, for at
    /// most [`PATIENCE`]; whether all of them were taken.
    pub fn trickle(&mut self, bytes: &[u8], every: Duration) -> bool {
        let started = Instant::now();
        for &byte in bytes {
            if started.elapsed() > PATIENCE || !self.send_checked(&[byte]) {
                return false;
            }
            std::thread::sleep(every);
        }
        true
    }

    /// `prefix`, then `chunk` again and again until the client hangs up
    /// (or [`PATIENCE`] has passed, or 4 GiB are sent).
    pub fn endless(&mut self, prefix: &[u8], chunk: &[u8]) {
        self.send(prefix);
        let mut block = Vec::new();
        while block.len() < 64 * 1024 {
            block.extend_from_slice(chunk);
        }
        let started = Instant::now();
        let mut sent = 0usize;
        while sent < (4 << 30) && started.elapsed() < PATIENCE {
            if !self.send_checked(&block) {
                return;
            }
            sent += block.len();
        }
    }

    /// The TLS handshake with `acceptor`; whether it succeeded (the
    /// connection then goes on under TLS).
    pub fn start_tls(&mut self, acceptor: &SslAcceptor) -> bool {
        match acceptor.accept(self.tcp.try_clone().unwrap()) {
            Ok(stream) => {
                let recorder = Recorder {
                    inner: Box::new(stream),
                    got: Arc::clone(&self.tls_bytes),
                };
                self.io = BufReader::new(recorder);
                self.tls = true;
                true
            }
            Err(_) => false,
        }
    }

    /// The server's side of a TLS handshake written one byte every
    /// `every`, until it completes or the client hangs up.
    pub fn slow_handshake(&mut self, acceptor: &SslAcceptor, every: Duration) {
        let slow = Slow {
            tcp: self.tcp.try_clone().unwrap(),
            every,
        };
        let _ = acceptor.accept(slow);
    }

    /// Waits for the client's first bytes (of a TLS handshake, say).
    pub fn await_client(&mut self) {
        let mut first = [0u8; 1];
        let _ = self.io.read(&mut first);
    }

    /// Makes the connection end with a reset (RST) rather than a FIN.
    pub fn reset(&self) {
        use std::os::unix::io::AsRawFd;
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket and a properly sized option value.
        unsafe {
            libc::setsockopt(
                self.tcp.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }

    /// The bytes read so far: in plain text, and decrypted under TLS.
    pub fn recorded(&self) -> (Vec<u8>, Vec<u8>) {
        let plain = self.plain.lock().unwrap().clone();
        let tls = self.tls_bytes.lock().unwrap().clone();
        (plain, tls)
    }
}

/// A TCP stream that writes one byte at a time, `every` apart.
struct Slow {
    tcp: TcpStream,
    every: Duration,
}

impl Read for Slow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.tcp.read(buf)
    }
}

impl Write for Slow {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some(&first) = buf.first() else {
            return Ok(0);
        };
        std::thread::sleep(self.every);
        self.tcp.write(&[first])
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.tcp.flush()
    }
}
