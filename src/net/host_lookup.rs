//! Host name lookup through the system resolver (getaddrinfo, as every
//! other program on the machine resolves names: /etc/hosts, nsswitch),
//! keeping getaddrinfo's own answer code so that "no such host" and "the
//! resolver failed" are told apart by code, not by message text.

use std::ffi::{CStr, CString};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Why a lookup found no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupFailure {
    /// The name does not exist, or has no address (EAI_NONAME,
    /// EAI_NODATA): asking again will not help.
    NotFound,
    /// The resolver failed (EAI_AGAIN, EAI_FAIL, ...): try later. The
    /// text is the system's own description.
    Failed(String),
}

/// The stream-socket addresses of `host` on `port`, in the resolver's
/// order.
pub fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, LookupFailure> {
    let name = CString::new(host).map_err(|_| LookupFailure::NotFound)?;
    // SAFETY: an all-zero addrinfo is the documented "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `name` and `hints` outlive the call; `list` is freed below.
    let code = unsafe { libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &hints, &mut list) };
    if code != 0 {
        return Err(failure(code));
    }
    let mut addresses = Vec::new();
    let mut entry = list;
    while !entry.is_null() {
        // SAFETY: getaddrinfo returned a valid list, walked to its end.
        let info = unsafe { &*entry };
        if let Some(address) = socket_address(info, port) {
            addresses.push(address);
        }
        entry = info.ai_next;
    }
    // SAFETY: `list` came from getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    Ok(addresses)
}

/// The lookup failure for a getaddrinfo code.
fn failure(code: libc::c_int) -> LookupFailure {
    if code == libc::EAI_NONAME || code == libc::EAI_NODATA {
        return LookupFailure::NotFound;
    }
    // SAFETY: gai_strerror returns a static C string for any code.
    let text = unsafe { CStr::from_ptr(libc::gai_strerror(code)) };
    LookupFailure::Failed(text.to_string_lossy().into_owned())
}

/// One entry's address with `port`, for IPv4 and IPv6 entries.
fn socket_address(info: &libc::addrinfo, port: u16) -> Option<SocketAddr> {
    match info.ai_family {
        libc::AF_INET => {
            // SAFETY: an AF_INET entry's ai_addr is a sockaddr_in.
            let raw = unsafe { &*(info.ai_addr as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(raw.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        }
        libc::AF_INET6 => {
            // SAFETY: an AF_INET6 entry's ai_addr is a sockaddr_in6.
            let raw = unsafe { &*(info.ai_addr as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(raw.sin6_addr.s6_addr);
            let v6 = SocketAddrV6::new(ip, port, raw.sin6_flowinfo, raw.sin6_scope_id);
            Some(SocketAddr::V6(v6))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_resolves_with_the_port() {
        let addresses = lookup("localhost", 2525).expect("localhost resolves");
        assert!(!addresses.is_empty());
        assert!(
            addresses
                .iter()
                .all(|a| a.port() == 2525 && a.ip().is_loopback())
        );
    }

    #[test]
    fn codes_not_text_decide() {
        assert_eq!(failure(libc::EAI_NONAME), LookupFailure::NotFound);
        assert_eq!(failure(libc::EAI_NODATA), LookupFailure::NotFound);
        assert!(matches!(failure(libc::EAI_AGAIN), LookupFailure::Failed(t) if !t.is_empty()));
        assert!(matches!(failure(libc::EAI_FAIL), LookupFailure::Failed(_)));
    }

    #[test]
    fn a_name_with_nul_is_not_found() {
        assert_eq!(lookup("a\0b", 25), Err(LookupFailure::NotFound));
    }
}
