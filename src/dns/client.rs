//! A stub DNS client built for bulk lookups: one UDP socket per resolver
//! carries every query in flight (random 16-bit ids, answers matched by id,
//! source address and question), with retransmission within the deadline
//! and TCP when an answer is truncated (RFC 1035 §4.2, RFC 7766). Each
//! socket is connected to its resolver, so that an ICMP port-unreachable
//! ends the wait at once ("connection refused", as dig says) instead of
//! the deadline; a resolver that refuses is asked again once, as resolvers
//! retry, and then the next one. Messages are encoded and decoded with
//! hickory-proto.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_resolver::proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;

/// The largest UDP answer we offer to take (EDNS, RFC 6891; the DNS flag
/// day 2020 size that avoids IP fragmentation).
const UDP_PAYLOAD: u16 = 1232;
/// How many CNAME links to follow before giving up on a loop.
const MAX_CNAME_CHAIN: usize = 8;

/// The outcome of one question.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Records of the asked type, with any CNAME records that led to them.
    Records(Vec<Record>),
    /// The name exists but has no record of that type.
    NoData,
    /// The name does not exist.
    NxDomain,
    /// The resolver answered with an error code (SERVFAIL, REFUSED, ...).
    Error(ResponseCode),
    /// No usable answer in time, or the resolver could not be reached.
    Unreachable(String),
}

/// How often a resolver that refuses (ICMP port unreachable) is asked in
/// one question before it counts as unreachable.
const REFUSALS: usize = 2;

/// What the socket brought for a query.
#[derive(Debug)]
enum Datagram {
    /// A datagram with the query's id.
    Answer(Vec<u8>),
    /// The resolver's host said nothing listens there.
    Refused,
}

/// Answers waiting to be claimed, by query id.
type Pending = Arc<Mutex<HashMap<u16, mpsc::Sender<Datagram>>>>;

/// One resolver and the socket that talks to it.
struct Resolver {
    address: SocketAddr,
    socket: Arc<UdpSocket>,
    pending: Pending,
}

/// A client of one or more resolvers (tried in turn on each retransmission).
pub struct Client {
    resolvers: Vec<Resolver>,
    attempt_timeout: Duration,
}

impl Client {
    /// A client for `servers`; must be created inside a Tokio runtime. Each
    /// attempt waits `attempt_timeout`; the caller bounds the whole lookup.
    pub async fn new(servers: &[SocketAddr], attempt_timeout: Duration) -> io::Result<Client> {
        let mut resolvers = Vec::new();
        for &address in servers {
            let local: IpAddr = match address {
                SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
                SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
            };
            let socket = UdpSocket::bind((local, 0)).await?;
            // Connected: only this resolver's datagrams arrive, and its
            // host's ICMP refusal is reported on the socket.
            socket.connect(address).await?;
            let socket = Arc::new(socket);
            let pending = Pending::default();
            tokio::spawn(dispatch(Arc::clone(&socket), Arc::clone(&pending)));
            resolvers.push(Resolver {
                address,
                socket,
                pending,
            });
        }
        if resolvers.is_empty() {
            return Err(io::Error::other("no resolver configured"));
        }
        Ok(Client {
            resolvers,
            attempt_timeout,
        })
    }

    /// Asks for `kind` records of `name` (a fully qualified name), following
    /// CNAME chains the resolver did not follow itself. Retries until the
    /// caller's deadline drops this future.
    pub async fn ask(&self, name: &Name, kind: RecordType) -> Reply {
        let mut target = name.clone();
        let mut chain = Vec::new();
        for _ in 0..MAX_CNAME_CHAIN {
            let records = match self.ask_once(&target, kind).await {
                Reply::Records(records) => records,
                other => return other,
            };
            let (found, next) = follow_chain(&target, kind, &records);
            chain.extend(found);
            match next {
                Some(alias_target) => target = alias_target,
                None if chain.is_empty() => return Reply::NoData,
                None => return Reply::Records(chain),
            }
        }
        Reply::Error(ResponseCode::ServFail)
    }

    /// One question, one answer (no CNAME chasing). Resolvers are asked in
    /// turn until one answers or the caller's deadline drops this future;
    /// when every resolver has refused [`REFUSALS`] times, it ends at once.
    async fn ask_once(&self, name: &Name, kind: RecordType) -> Reply {
        let mut last = String::from("no answer");
        let mut refusals = vec![0usize; self.resolvers.len()];
        for attempt in 0.. {
            if refusals.iter().all(|&n| n >= REFUSALS) {
                break;
            }
            let index = attempt % self.resolvers.len();
            if refusals[index] >= REFUSALS {
                continue;
            }
            let resolver = &self.resolvers[index];
            match self.exchange_udp(resolver, name, kind).await {
                Ok(Some(message)) if message.truncated() => {
                    match exchange_tcp(resolver.address, name, kind).await {
                        Ok(message) => return classify(message),
                        Err(e) => last = format!("TCP to {}: {e}", resolver.address),
                    }
                }
                Ok(Some(message)) => return classify(message),
                Ok(None) => last = format!("no answer from {}", resolver.address),
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    refusals[index] += 1;
                    last = format!("{}: connection refused", resolver.address);
                }
                Err(e) => last = format!("{}: {e}", resolver.address),
            }
            if attempt + 1 >= 64 {
                break;
            }
        }
        Reply::Unreachable(last)
    }

    /// Sends the question over UDP and waits one attempt for its answer; a
    /// refusal is [`io::ErrorKind::ConnectionRefused`].
    async fn exchange_udp(
        &self,
        resolver: &Resolver,
        name: &Name,
        kind: RecordType,
    ) -> io::Result<Option<Message>> {
        let (id, mut answers) = register(&resolver.pending);
        let _claim = Claim {
            pending: &resolver.pending,
            id,
        };
        let query = encode_query(id, name, kind)?;
        resolver.socket.send(&query).await?;
        let deadline = tokio::time::Instant::now() + self.attempt_timeout;
        loop {
            let bytes = match tokio::time::timeout_at(deadline, answers.recv()).await {
                Ok(Some(Datagram::Answer(bytes))) => bytes,
                Ok(Some(Datagram::Refused)) => {
                    return Err(io::ErrorKind::ConnectionRefused.into());
                }
                Ok(None) | Err(_) => return Ok(None),
            };
            // A datagram with our id but another question is not our answer
            // (RFC 5452 §4.1): keep waiting.
            if let Ok(message) = Message::from_vec(&bytes)
                && answers_question(&message, name, kind)
            {
                return Ok(Some(message));
            }
        }
    }
}

/// Reserves a fresh random id and the channel its answer will arrive on.
fn register(pending: &Pending) -> (u16, mpsc::Receiver<Datagram>) {
    let (sender, receiver) = mpsc::channel(2);
    let mut map = pending.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let id = crate::random::u64() as u16;
        if let std::collections::hash_map::Entry::Vacant(slot) = map.entry(id) {
            slot.insert(sender);
            return (id, receiver);
        }
    }
}

/// Releases an id when its query is done or abandoned.
struct Claim<'a> {
    pending: &'a Pending,
    id: u16,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

/// Reads every datagram from the resolver (the socket is connected to
/// it) and hands it to the query waiting for its id; anything else is
/// dropped. A refusal (ICMP port unreachable) goes to every waiting query.
async fn dispatch(socket: Arc<UdpSocket>, pending: Pending) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let len = match socket.recv(&mut buf).await {
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                let waiting: Vec<_> = pending
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .values()
                    .cloned()
                    .collect();
                for sender in waiting {
                    let _ = sender.try_send(Datagram::Refused);
                }
                continue;
            }
            // Other ICMP errors and the like: the attempt's timeout deals
            // with them.
            Err(_) => continue,
        };
        if len < 12 {
            continue;
        }
        let id = u16::from_be_bytes([buf[0], buf[1]]);
        let waiting = pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned();
        if let Some(sender) = waiting {
            let _ = sender.try_send(Datagram::Answer(buf[..len].to_vec()));
        }
    }
}

fn encode_query(id: u16, name: &Name, kind: RecordType) -> io::Result<Vec<u8>> {
    let mut message = Message::new();
    message
        .set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(name.clone(), kind));
    let mut edns = Edns::new();
    edns.set_max_payload(UDP_PAYLOAD);
    message.set_edns(edns);
    message.to_vec().map_err(io::Error::other)
}

fn answers_question(message: &Message, name: &Name, kind: RecordType) -> bool {
    message.message_type() == MessageType::Response
        && message.queries().first().is_some_and(|q| {
            q.query_type() == kind && q.name().to_lowercase() == name.to_lowercase()
        })
}

/// The question over TCP, for answers too large for UDP.
async fn exchange_tcp(server: SocketAddr, name: &Name, kind: RecordType) -> io::Result<Message> {
    let id = crate::random::u64() as u16;
    let query = encode_query(id, name, kind)?;
    let mut stream = TcpStream::connect(server).await?;
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&query);
    stream.write_all(&framed).await?;
    let length = stream.read_u16().await?;
    let mut answer = vec![0u8; usize::from(length)];
    stream.read_exact(&mut answer).await?;
    let message = Message::from_vec(&answer).map_err(io::Error::other)?;
    if message.id() != id || !answers_question(&message, name, kind) {
        return Err(io::Error::other("answer does not match the question"));
    }
    Ok(message)
}

fn classify(mut message: Message) -> Reply {
    match message.response_code() {
        ResponseCode::NoError => {
            let answers = message.take_answers();
            if answers.is_empty() {
                Reply::NoData
            } else {
                Reply::Records(answers)
            }
        }
        ResponseCode::NXDomain => Reply::NxDomain,
        code => Reply::Error(code),
    }
}

/// The records that answer `name`/`kind` by way of the CNAME chain in
/// `records`, and the name still to ask for when the chain ends in an
/// alias whose target the answer does not cover.
fn follow_chain(name: &Name, kind: RecordType, records: &[Record]) -> (Vec<Record>, Option<Name>) {
    let mut current = name.clone();
    let mut found = Vec::new();
    for _ in 0..MAX_CNAME_CHAIN {
        let matching: Vec<&Record> = records
            .iter()
            .filter(|r| r.name().to_lowercase() == current.to_lowercase())
            .collect();
        let direct: Vec<Record> = matching
            .iter()
            .filter(|r| r.record_type() == kind)
            .map(|r| (*r).clone())
            .collect();
        if !direct.is_empty() {
            found.extend(direct);
            return (found, None);
        }
        let alias = matching.iter().find_map(|r| match r.data() {
            Some(RData::CNAME(target)) => Some(((*r).clone(), target.0.clone())),
            _ => None,
        });
        match alias {
            Some((record, target)) => {
                found.push(record);
                current = target;
            }
            // Nothing more for this name: if it is the end of an alias
            // chain, the target still has to be asked for.
            None => {
                let more = !found.is_empty();
                return (found, more.then_some(current));
            }
        }
    }
    (found, None)
}
