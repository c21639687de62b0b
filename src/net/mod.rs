//! What every protocol tool shares on the network side: the server URL,
//! the connection (TCP, TLS, STARTTLS with the injection check, bounded
//! reads with deadlines), the endpoint and the one negotiator that applies
//! the TLS and login policy, credentials and SASL, the transcript, and the
//! dot-terminated reader of multi-line responses.

pub mod connection;
pub mod credentials;
pub mod dot_reader;
pub mod host_lookup;
pub mod sasl;
pub mod session;
pub mod transcript;
pub mod url;
