//! A throwaway self-signed TLS certificate (for `localhost` and 127.0.0.1,
//! or any name), made with the `openssl` command for each server instance.
//!
//! The certificate is its own trust root: clients add `cert` as a root
//! certificate and connect to "localhost" (or 127.0.0.1). It says
//! `CA:FALSE`, which rustls/webpki need (they reject a CA certificate used
//! as the server's own), and OpenSSL accepts too.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A certificate and its unencrypted private key (ECDSA P-256, valid for
/// two days), both PEM files.
pub struct TlsCert {
    /// The certificate: the server's certificate and the client's trust root.
    pub cert: PathBuf,
    /// The private key, mode 644 so that servers that drop privileges (Exim
    /// runs as Debian-exim when started as root) can still read it.
    pub key: PathBuf,
}

impl TlsCert {
    /// Writes `cert.pem` and `key.pem` into `dir` (takes ~20 ms), for
    /// `localhost` and 127.0.0.1.
    pub fn generate(dir: &Path) -> TlsCert {
        TlsCert::generate_for(dir, "localhost", "DNS:localhost,IP:127.0.0.1")
    }

    /// Writes `cert.pem` and `key.pem` into `dir`: common name `name`,
    /// subject alternative names `alt_names` (as openssl takes them, e.g.
    /// `DNS:mx.example.test,IP:127.0.0.1`).
    pub fn generate_for(dir: &Path, name: &str, alt_names: &str) -> TlsCert {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        let output = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec"])
            .args(["-pkeyopt", "ec_paramgen_curve:prime256v1"])
            .args(["-nodes", "-days", "2", "-subj", &format!("/CN={name}")])
            .args(["-addext", &format!("subjectAltName={alt_names}")])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .args(["-addext", "extendedKeyUsage=serverAuth"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap_or_else(|e| panic!("cannot run openssl: {e} (run scripts/need-packages test)"));
        assert!(
            output.status.success(),
            "openssl req failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        set_mode(&key, 0o644);
        TlsCert { cert, key }
    }

    /// Copies the certificate and key into `dir` (same file names).
    pub fn copy_to(&self, dir: &Path) -> TlsCert {
        let copy = TlsCert {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::copy(&self.cert, &copy.cert).expect("copy the certificate");
        std::fs::copy(&self.key, &copy.key).expect("copy the key");
        set_mode(&copy.key, 0o644);
        copy
    }
}

/// The PEM text of a certificate file, for `openssl::x509::X509::from_pem`.
pub fn pem(cert: &Path) -> Vec<u8> {
    std::fs::read(cert).expect("read the certificate")
}

/// Sets a file's permission bits.
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
