//! Decoding what messages carry: transfer encodings (streaming), RFC 2047
//! encoded-words, RFC 2231 parameters, charsets, uuencode, and HTML as text.
