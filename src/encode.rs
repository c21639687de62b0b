//! Content-Transfer-Encodings (RFC 2045 §6): choosing one for a body by
//! scanning it, and streaming encoders for 7bit, quoted-printable and base64.
