//! A scripted SMTP-like server on 127.0.0.1 for the faults no real server
//! makes (STARTTLS response injection, endless lines, silence, hostile
//! banners): a banner, then each command line answered by the first rule
//! whose prefix it starts with (case-insensitive), else by `otherwise`.
//!
//! Replies are sent as given (they may be anything), except two words:
//! `SILENCE` (say nothing for 30 s) and `CLOSE` (hang up). `DATA` without
//! a rule is answered `354`. After `DATA`, message lines get no reply
//! (unless a rule matches them) until the lone `.`, which gets `250 ok`. A connection ends when the client closes it or once
//! `QUIT` is answered.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::Duration;

/// What the server says and to how many connections.
pub struct Script {
    /// Sent first on every connection.
    pub banner: &'static [u8],
    /// (prefix, reply), the first match answers.
    pub rules: Vec<(&'static str, &'static [u8])>,
    /// The reply when no rule matches.
    pub otherwise: &'static [u8],
    /// How many connections to serve, one after the other.
    pub connections: usize,
}

impl Script {
    /// One connection: `220 scripted ESMTP`, `rules`, else `250 ok`.
    pub fn smtp(rules: Vec<(&'static str, &'static [u8])>) -> Script {
        Script {
            banner: b"220 scripted ESMTP\r\n",
            rules,
            otherwise: b"250 ok\r\n",
            connections: 1,
        }
    }

    /// Starts serving; gives the port and a handle that yields every line
    /// the clients sent (line ends removed), once all connections ended.
    pub fn start(self) -> (u16, JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let mut received = Vec::new();
            for _ in 0..self.connections {
                let Ok((stream, _)) = listener.accept() else {
                    break;
                };
                self.converse(stream, &mut received);
            }
            received
        });
        (port, handle)
    }

    fn converse(&self, mut stream: std::net::TcpStream, received: &mut Vec<String>) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
        let _ = stream.write_all(self.banner);
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        let mut in_data = false;
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let command = line.trim_end().to_string();
            received.push(command.clone());
            let upper = line.to_ascii_uppercase();
            let reply = self
                .rules
                .iter()
                .find(|(prefix, _)| upper.starts_with(&prefix.to_ascii_uppercase()))
                .map(|(_, reply)| *reply);
            let mut answered = true;
            match reply {
                Some(b"SILENCE") => {
                    answered = false;
                    std::thread::sleep(Duration::from_secs(30));
                }
                Some(b"CLOSE") => return,
                Some(reply) => {
                    in_data |= upper.starts_with("DATA");
                    let _ = stream.write_all(reply);
                }
                // Message data gets no reply, but its end does.
                None if in_data && command == "." => {
                    in_data = false;
                    let _ = stream.write_all(b"250 ok\r\n");
                }
                None if in_data => answered = false,
                // DATA goes ahead unless a rule says otherwise.
                None if upper.starts_with("DATA") => {
                    in_data = true;
                    let _ = stream.write_all(b"354 go ahead\r\n");
                }
                None => {
                    let _ = stream.write_all(self.otherwise);
                }
            }
            if answered && command.eq_ignore_ascii_case("QUIT") {
                return;
            }
            line.clear();
        }
    }
}
