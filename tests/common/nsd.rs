//! NSD, a real authoritative DNS server, serving test zones on loopback.

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use super::{Daemon, Scratch, free_port};

/// A running NSD and the port it answers on (UDP and TCP).
pub struct Nsd {
    /// The port on 127.0.0.1.
    pub port: u16,
    _daemon: Daemon,
    _dir: Scratch,
}

impl Nsd {
    /// Serves `zones` (origin, zone file text) and a zone `servfail.test`
    /// whose file is missing, so that NSD answers SERVFAIL for it.
    pub fn start(zones: &[(&str, &str)]) -> Nsd {
        let dir = Scratch::new();
        let n = dir.subdir("nsd");
        let port = free_port();
        let mut conf = format!(
            "server:\n  ip-address: 127.0.0.1\n  port: {port}\n  do-ip6: no\n  username: \"\"\n  \
             chroot: \"\"\n  zonesdir: \"{d}\"\n  database: \"\"\n  zonelistfile: \"{d}/zone.list\"\n  \
             xfrdfile: \"{d}/xfrd.state\"\n  xfrdir: \"{d}\"\n  pidfile: \"{d}/nsd.pid\"\n  \
             logfile: \"{d}/nsd.log\"\n  server-count: 1\n  verbosity: 1\n  \
             rrl-ratelimit: 0\n\
             remote-control:\n  control-enable: no\n\
             zone:\n  name: \"servfail.test\"\n  zonefile: \"missing.zone\"\n",
            d = n.display()
        );
        for (origin, text) in zones {
            let file = format!("{origin}.zone");
            std::fs::write(n.join(&file), text).expect("write zone");
            conf.push_str(&format!(
                "zone:\n  name: \"{origin}\"\n  zonefile: \"{file}\"\n"
            ));
        }
        std::fs::write(n.join("nsd.conf"), conf).expect("write nsd.conf");
        let mut command = Command::new("/usr/sbin/nsd");
        command.arg("-d").arg("-c").arg(n.join("nsd.conf"));
        let probe_origin = zones.first().map(|z| z.0).unwrap_or("servfail.test");
        let daemon = Daemon::start("nsd", command, n.join("stdout.log"), || {
            answers_soa(port, probe_origin)
        });
        Nsd {
            port,
            _daemon: daemon,
            _dir: dir,
        }
    }

    /// `127.0.0.1:PORT`, for `--server`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// Sends a minimal SOA query over UDP and reports whether any answer came.
fn answers_soa(port: u16, origin: &str) -> bool {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut query = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in origin.split('.').filter(|l| !l.is_empty()) {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 6, 0, 1]);
    if socket.send_to(&query, ("127.0.0.1", port)).is_err() {
        return false;
    }
    let mut reply = [0u8; 512];
    socket.recv(&mut reply).is_ok()
}
