//! Header fields as they go on the wire: RFC 2047 encoded-words, RFC 2231
//! parameters, folding (RFC 5322 §2.2.3).
