//! RFC 5322 §3.4 addresses: mailboxes, groups and address lists.
