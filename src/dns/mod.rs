//! Mail routing through DNS: MX records in preference order with each
//! exchange's addresses (RFC 5321 §5.1), the implicit MX, and null MX
//! (RFC 7505). Lookups run concurrently but results come out in input order.

pub mod client;

pub mod probe;

use client::{Client, Reply};

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use hickory_resolver::config::Protocol;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use serde::Serialize;

use crate::domain;
use crate::error::{Error, ErrorKind};
use crate::exit::ExitStatus;
use crate::input::ListBatches;

/// Where mail for a domain goes, or why it goes nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteStatus {
    /// At least one exchange (explicit or implicit).
    Ok,
    /// The domain does not exist.
    Nxdomain,
    /// The domain exists but has no MX, A or AAAA record, or no exchange
    /// has an address.
    NoMail,
    /// The domain says it accepts no mail (RFC 7505).
    NullMx,
    /// The resolver failed (SERVFAIL, REFUSED, a broken answer); try later.
    Servfail,
    /// No answer within the time limit.
    Timeout,
    /// The input is not a usable domain name.
    Invalid,
}

impl RouteStatus {
    /// The exit status of the contract for this outcome.
    pub fn exit_status(self) -> ExitStatus {
        match self {
            RouteStatus::Ok => ExitStatus::Ok,
            RouteStatus::Nxdomain | RouteStatus::NoMail => ExitStatus::NoHost,
            RouteStatus::NullMx => ExitStatus::Unavailable,
            RouteStatus::Servfail | RouteStatus::Timeout => ExitStatus::TempFail,
            RouteStatus::Invalid => ExitStatus::DataErr,
        }
    }
}

/// One mail exchanger of a domain, with what a caller adds to it
/// (`extra`, flattened into its JSON: `mx-lookup --probe` adds a probe).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exchange<X = ()> {
    /// MX preference: lower is tried first.
    pub preference: u16,
    /// The exchange's host name, lower-case, without trailing dot.
    pub exchange: String,
    /// A and AAAA addresses (A first), empty when not looked up.
    pub addresses: Vec<IpAddr>,
    /// The canonical name when the exchange is an alias, which RFC 5321
    /// §5.1 forbids.
    pub cname: Option<String>,
    /// What a caller added (nothing from the DNS itself).
    #[serde(flatten)]
    pub extra: X,
}

/// The answer for one input line or argument; `X` is what a caller adds
/// to each exchange.
#[derive(Debug, Clone, Serialize)]
pub struct MxReport<X = ()> {
    /// The domain asked for, as A-labels; the input itself when invalid.
    pub domain: String,
    /// The input as given (an address, a U-label name, ...).
    pub input: String,
    /// The outcome.
    pub status: RouteStatus,
    /// True when the route is the domain's own address (no MX record).
    pub implicit: bool,
    /// Exchanges in the order a sender tries them.
    pub mx: Vec<Exchange<X>>,
    /// Why the status is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Problems that do not stop delivery but deserve a look.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Queries and answers, for `-v`.
    #[serde(skip)]
    pub transcript: Vec<String>,
}

impl<X> MxReport<X> {
    /// The same report with `extra(exchange)` added to each exchange.
    pub fn with_extras<Y>(self, mut extra: impl FnMut(&Exchange<X>) -> Y) -> MxReport<Y> {
        let mx = self
            .mx
            .into_iter()
            .map(|exchange| Exchange {
                extra: extra(&exchange),
                preference: exchange.preference,
                exchange: exchange.exchange,
                addresses: exchange.addresses,
                cname: exchange.cname,
            })
            .collect();
        MxReport {
            domain: self.domain,
            input: self.input,
            status: self.status,
            implicit: self.implicit,
            mx,
            error: self.error,
            warnings: self.warnings,
            transcript: self.transcript,
        }
    }
}

impl MxReport {
    fn new(input: &str, domain: String) -> Self {
        MxReport {
            domain,
            input: input.to_string(),
            status: RouteStatus::Ok,
            implicit: false,
            mx: Vec::new(),
            error: None,
            warnings: Vec::new(),
            transcript: Vec::new(),
        }
    }

    fn fail(mut self, status: RouteStatus, error: impl Into<String>) -> Self {
        self.set_failed(status, error);
        self
    }

    fn set_failed(&mut self, status: RouteStatus, error: impl Into<String>) {
        self.status = status;
        self.error = Some(error.into());
    }
}

/// The limit for one domain's lookup unless the user gives another: a
/// resolver answers within milliseconds or not at all, and the questions
/// are sent again several times within it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// What to ask and whom.
#[derive(Debug, Clone)]
pub struct ResolverSettings {
    /// The resolver to ask; `None` for the system's configuration.
    pub server: Option<SocketAddr>,
    /// The limit for one domain's whole lookup.
    pub timeout: Duration,
    /// Whether to look up each exchange's A and AAAA records.
    pub addresses: bool,
}

/// Parses `IP`, `IP:PORT`, `[IPv6]` or `[IPv6]:PORT` (port 53 by default).
pub fn parse_server(text: &str) -> Result<SocketAddr, Error> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| Error::usage(format!("invalid resolver address {text:?}: want IP[:PORT]")))
}

/// An MX resolver over one DNS client.
pub struct MxResolver {
    client: Client,
    /// The resolvers asked, for the transcript and errors (`IP:PORT`,
    /// comma-separated).
    servers: String,
    settings: ResolverSettings,
    cache: Mutex<HashMap<(String, RecordType), Answer>>,
}

/// Answers remembered for the rest of the run (bulk lists repeat domains
/// and share exchanges); cleared when full so memory stays bounded.
const CACHE_ENTRIES: usize = 4096;

impl MxResolver {
    /// A resolver for `settings`; must be called inside a Tokio runtime.
    pub async fn new(settings: ResolverSettings) -> Result<Self, Error> {
        let servers = match settings.server {
            Some(server) => vec![server],
            None => system_resolvers()?,
        };
        // Several tries within the caller's limit; route() bounds the total.
        let attempt =
            (settings.timeout / 3).clamp(Duration::from_millis(100), Duration::from_secs(2));
        let client = Client::new(&servers, attempt).await.map_err(|e| {
            Error::new(ErrorKind::LocalIo, format!("cannot open a DNS socket: {e}"))
        })?;
        let servers = servers
            .iter()
            .map(SocketAddr::to_string)
            .collect::<Vec<_>>()
            .join(",");
        Ok(MxResolver {
            client,
            servers,
            settings,
            cache: Mutex::default(),
        })
    }

    /// The mail route for one input (a domain or an address), within the
    /// time limit.
    pub async fn route(&self, input: &str) -> MxReport {
        let domain = match domain::mail_domain(input) {
            Ok(domain) => domain,
            Err(why) => {
                return MxReport::new(input, input.trim().to_string())
                    .fail(RouteStatus::Invalid, format!("invalid domain: {why}"));
            }
        };
        let mut report = MxReport::new(input, domain.clone());
        let limit = self.settings.timeout;
        if tokio::time::timeout(limit, self.route_domain(&mut report))
            .await
            .is_ok()
        {
            return report;
        }
        // The questions asked so far stay in the transcript (for -v).
        let why = format!("no answer from {} within {limit:?}", self.servers);
        let mut transcript = std::mem::take(&mut report.transcript);
        transcript.push(format!("<- {why}"));
        let mut report = MxReport::new(input, domain).fail(RouteStatus::Timeout, why);
        report.transcript = transcript;
        report
    }

    async fn route_domain(&self, report: &mut MxReport) {
        let answer = self
            .query(&report.domain, RecordType::MX, &mut report.transcript)
            .await;
        match answer {
            Answer::Records(records) => self.explicit_route(report, &records).await,
            Answer::NoData => self.implicit_route(report).await,
            Answer::Failed(status, why) => report.set_failed(status, why),
        }
    }

    async fn explicit_route(&self, report: &mut MxReport, records: &[Record]) {
        let mut exchanges: Vec<(u16, Name)> = records
            .iter()
            .filter_map(|record| match record.data() {
                Some(RData::MX(mx)) => Some((mx.preference(), mx.exchange().clone())),
                _ => None,
            })
            .collect();
        let null_mx = exchanges.iter().any(|(_, name)| name.is_root());
        if null_mx && exchanges.len() == 1 {
            return report.set_failed(
                RouteStatus::NullMx,
                "null MX: the domain accepts no mail (RFC 7505)",
            );
        }
        if null_mx {
            report
                .warnings
                .push("null MX mixed with other MX records (RFC 7505 §3); ignored".into());
            exchanges.retain(|(_, name)| !name.is_root());
        }
        if exchanges.is_empty() {
            return self.implicit_route(report).await;
        }
        let mut mx: Vec<Exchange> = exchanges
            .into_iter()
            .map(|(preference, name)| Exchange {
                preference,
                exchange: name_text(&name),
                addresses: Vec::new(),
                cname: None,
                extra: (),
            })
            .collect();
        mx.sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
        mx.dedup();
        report.mx = mx;
        if self.settings.addresses {
            self.resolve_exchanges(report).await;
        }
    }

    /// RFC 5321 §5.1: without MX records the domain itself is the exchange.
    async fn implicit_route(&self, report: &mut MxReport) {
        let domain = report.domain.clone();
        let found = self.addresses(&domain, &mut report.transcript).await;
        match found {
            Err((status, why)) => report.set_failed(status, why),
            Ok(found) if found.addresses.is_empty() => report.set_failed(
                RouteStatus::NoMail,
                "no MX, A or AAAA record: the domain has no mail route",
            ),
            Ok(found) => {
                report.implicit = true;
                report.mx = vec![Exchange {
                    preference: 0,
                    exchange: domain,
                    addresses: if self.settings.addresses {
                        found.addresses
                    } else {
                        Vec::new()
                    },
                    cname: found.cname,
                    extra: (),
                }];
            }
        }
    }

    async fn resolve_exchanges(&self, report: &mut MxReport) {
        let lookups = report.mx.iter().map(|exchange| {
            let mut transcript = Vec::new();
            let name = exchange.exchange.clone();
            async move {
                let found = self.addresses(&name, &mut transcript).await;
                (found, transcript)
            }
        });
        let results = futures_util::future::join_all(lookups).await;
        let mut unreachable = 0;
        let mut undecided = 0;
        for (exchange, (found, transcript)) in report.mx.iter_mut().zip(results) {
            report.transcript.extend(transcript);
            match found {
                Ok(found) => {
                    exchange.addresses = found.addresses;
                    exchange.cname = found.cname;
                }
                Err((status, why)) => {
                    if status == RouteStatus::Nxdomain {
                        unreachable += 1;
                    } else {
                        undecided += 1;
                    }
                    report
                        .warnings
                        .push(format!("exchange {}: {why}", exchange.exchange));
                    continue;
                }
            }
            if let Some(target) = &exchange.cname {
                report.warnings.push(format!(
                    "exchange {} is an alias for {target} (RFC 5321 §5.1 forbids this)",
                    exchange.exchange
                ));
            }
            if exchange.addresses.is_empty() {
                unreachable += 1;
                report.warnings.push(format!(
                    "exchange {} has no A or AAAA record: it cannot receive mail",
                    exchange.exchange
                ));
            }
        }
        if unreachable == report.mx.len() {
            report.status = RouteStatus::NoMail;
            report.error = Some("no exchange has an address".into());
        } else if unreachable + undecided == report.mx.len() {
            report.status = RouteStatus::Servfail;
            report.error = Some("no exchange address could be resolved".into());
        }
    }

    /// A and AAAA of `host`, asked concurrently.
    async fn addresses(
        &self,
        host: &str,
        transcript: &mut Vec<String>,
    ) -> Result<Addresses, (RouteStatus, String)> {
        let mut v4_log = Vec::new();
        let mut v6_log = Vec::new();
        let (v4, v6) = futures_util::join!(
            self.query(host, RecordType::A, &mut v4_log),
            self.query(host, RecordType::AAAA, &mut v6_log)
        );
        transcript.extend(v4_log);
        transcript.extend(v6_log);
        let mut found = Addresses::default();
        let mut nxdomain = 0;
        for answer in [v4, v6] {
            match answer {
                Answer::Records(records) => found.absorb(&records),
                Answer::NoData => {}
                Answer::Failed(RouteStatus::Nxdomain, _) => nxdomain += 1,
                Answer::Failed(status, why) => return Err((status, why)),
            }
        }
        if nxdomain == 2 {
            return Err((RouteStatus::Nxdomain, "no such domain (NXDOMAIN)".into()));
        }
        Ok(found)
    }

    async fn query(&self, name: &str, kind: RecordType, transcript: &mut Vec<String>) -> Answer {
        let fqdn = format!("{name}.");
        transcript.push(format!("-> {kind} {fqdn} @{}", self.servers));
        let key = (fqdn.to_ascii_lowercase(), kind);
        if let Some(answer) = self.cached(&key) {
            transcript.push(format!("<- {} (cached)", answer.summary(kind)));
            return answer;
        }
        let answer = match Name::from_ascii(&fqdn) {
            Ok(qname) => Answer::from_reply(self.client.ask(&qname, kind).await),
            Err(e) => Answer::Failed(RouteStatus::Invalid, format!("invalid name: {e}")),
        };
        transcript.push(format!("<- {}", answer.summary(kind)));
        self.remember(key, &answer);
        answer
    }

    fn cached(&self, key: &(String, RecordType)) -> Option<Answer> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(key).cloned()
    }

    /// Keeps definite answers; failures may be passing and are asked again.
    fn remember(&self, key: (String, RecordType), answer: &Answer) {
        let definite = match answer {
            Answer::Records(_) | Answer::NoData => true,
            Answer::Failed(status, _) => *status == RouteStatus::Nxdomain,
        };
        if definite {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(key, answer.clone());
        }
    }
}

/// The UDP resolvers of the system configuration (/etc/resolv.conf).
fn system_resolvers() -> Result<Vec<SocketAddr>, Error> {
    let (config, _) = hickory_resolver::system_conf::read_system_conf().map_err(|e| {
        Error::config(format!(
            "cannot read the system resolver configuration: {e}"
        ))
    })?;
    let mut servers: Vec<SocketAddr> = Vec::new();
    for server in config.name_servers() {
        if server.protocol == Protocol::Udp && !servers.contains(&server.socket_addr) {
            servers.push(server.socket_addr);
        }
    }
    if servers.is_empty() {
        return Err(Error::config(
            "the system resolver configuration names no resolver",
        ));
    }
    Ok(servers)
}

/// Addresses found for a host, and its canonical name if it is an alias.
#[derive(Debug, Default)]
struct Addresses {
    addresses: Vec<IpAddr>,
    cname: Option<String>,
}

impl Addresses {
    fn absorb(&mut self, records: &[Record]) {
        for record in records {
            match record.data() {
                Some(RData::A(a)) => self.addresses.push(IpAddr::V4(a.0)),
                Some(RData::AAAA(aaaa)) => self.addresses.push(IpAddr::V6(aaaa.0)),
                Some(RData::CNAME(target)) if self.cname.is_none() => {
                    self.cname = Some(name_text(&target.0));
                }
                _ => {}
            }
        }
    }
}

/// The outcome of one DNS question, as routing sees it.
#[derive(Clone)]
enum Answer {
    Records(Vec<Record>),
    NoData,
    Failed(RouteStatus, String),
}

impl Answer {
    fn from_reply(reply: Reply) -> Answer {
        match reply {
            Reply::Records(records) => Answer::Records(records),
            Reply::NoData => Answer::NoData,
            Reply::NxDomain => {
                Answer::Failed(RouteStatus::Nxdomain, "no such domain (NXDOMAIN)".into())
            }
            Reply::Error(code) => Answer::Failed(
                RouteStatus::Servfail,
                format!("the resolver answered {}", rcode_name(code)),
            ),
            Reply::Unreachable(why) => Answer::Failed(
                RouteStatus::Servfail,
                format!("resolver unreachable: {why}"),
            ),
        }
    }

    fn summary(&self, kind: RecordType) -> String {
        match self {
            Answer::Records(records) => {
                let wanted = records.iter().filter(|r| r.record_type() == kind).count();
                format!("NOERROR {wanted} {kind}")
            }
            Answer::NoData => "NOERROR no data".into(),
            Answer::Failed(_, why) => why.clone(),
        }
    }
}

/// The mnemonic of a response code, as dig prints it (RFC 6895 §2.3).
fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

/// A DNS name as text: lower-case, without the trailing dot.
fn name_text(name: &Name) -> String {
    let text = name.to_ascii().to_ascii_lowercase();
    match text.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() => stripped.to_string(),
        _ => text,
    }
}

/// Where the domains come from.
pub enum Inputs {
    /// A list already in memory (command-line arguments).
    List(Vec<String>),
    /// A reader of one entry a line (stdin), read lazily.
    Lines(Box<dyn Read + Send>),
}

/// Where reports go, in input order.
pub trait ReportSink<R = MxReport> {
    /// Takes the next report.
    fn report(&mut self, report: R) -> io::Result<()>;
    /// Nothing more is ready yet: the moment to flush buffered output.
    fn idle(&mut self) -> io::Result<()>;
}

/// The input of the domains could not be read (74).
fn input_failed(error: &io::Error) -> Error {
    Error::from_io(ErrorKind::LocalIo, "reading the domains", error)
}

/// The results could not be written (74; a closed pipe is told apart).
pub fn output_failed(error: &io::Error) -> Error {
    Error::from_io(ErrorKind::LocalIo, "writing the results", error)
}

/// The mail routes of `domains`, in order, all at once (for a caller that
/// needs every answer before it goes on, as `smtp-send` delivering to each
/// domain's MX).
pub fn route_all(settings: ResolverSettings, domains: Vec<String>) -> Result<Vec<MxReport>, Error> {
    struct Collect(Vec<MxReport>);
    impl ReportSink for Collect {
        fn report(&mut self, report: MxReport) -> io::Result<()> {
            self.0.push(report);
            Ok(())
        }
        fn idle(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut sink = Collect(Vec::new());
    route_each(settings, Inputs::List(domains), 16, &mut sink)?;
    Ok(sink.0)
}

/// An input line longer than this cannot be a domain name or an address.
const MAX_INPUT_LINE: usize = 1024;

/// Resolves every input with at most `concurrency` lookups in flight and
/// hands each report to `sink` in input order, as soon as it and all
/// earlier ones are done. Inputs are pulled lazily, so memory stays bounded
/// whatever their number.
pub fn route_each(
    settings: ResolverSettings,
    inputs: Inputs,
    concurrency: usize,
    sink: &mut impl ReportSink,
) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::bug(format!("cannot start the resolver: {e}")))?;
    runtime.block_on(async move {
        let resolver = MxResolver::new(settings).await?;
        let (batches, read_error) = feed(inputs, concurrency);
        let reports = batches
            .flat_map(futures_util::stream::iter)
            .map(|input| {
                let resolver = &resolver;
                async move { resolver.route(&input).await }
            })
            .buffered(concurrency.max(1));
        drain(reports, sink).await.map_err(|e| output_failed(&e))?;
        match read_error.lock().map(|mut slot| slot.take()) {
            Ok(Some(error)) => Err(input_failed(&error)),
            _ => Ok(()),
        }
    })
}

type ReadError = Arc<Mutex<Option<io::Error>>>;

/// The inputs as a stream of batches. A reader is read on a thread of its
/// own, so that a blocking stdin never stalls the lookups; a bounded
/// channel holds it back when the lookups fall behind.
fn feed(
    inputs: Inputs,
    concurrency: usize,
) -> (impl futures_util::Stream<Item = Vec<String>>, ReadError) {
    let read_error: ReadError = Arc::default();
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<String>>(4);
    let reader = match inputs {
        Inputs::List(list) => {
            let batch = concurrency.max(1) * 4;
            let chunks: Vec<Vec<String>> = list.chunks(batch).map(<[String]>::to_vec).collect();
            Box::new(chunks.into_iter().map(Ok)) as Box<dyn Iterator<Item = _> + Send>
        }
        Inputs::Lines(read) => Box::new(ListBatches::new(read, MAX_INPUT_LINE)),
    };
    let slot = Arc::clone(&read_error);
    std::thread::spawn(move || {
        for batch in reader {
            let sent = match batch {
                Ok(batch) => sender.blocking_send(batch),
                Err(error) => {
                    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
                    return;
                }
            };
            if sent.is_err() {
                return;
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    (stream, read_error)
}

/// Hands reports to the sink, telling it when it has caught up.
async fn drain(
    reports: impl futures_util::Stream<Item = MxReport>,
    sink: &mut impl ReportSink,
) -> io::Result<()> {
    futures_util::pin_mut!(reports);
    loop {
        let next = match reports.next().now_or_never() {
            Some(next) => next,
            None => {
                sink.idle()?;
                reports.next().await
            }
        };
        match next {
            Some(report) => sink.report(report)?,
            None => return sink.idle(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        assert_eq!(
            parse_server("127.0.0.1").unwrap(),
            "127.0.0.1:53".parse().unwrap()
        );
        assert_eq!(
            parse_server("127.0.0.1:5353").unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(parse_server("::1").unwrap(), "[::1]:53".parse().unwrap());
        assert_eq!(parse_server("[::1]").unwrap(), "[::1]:53".parse().unwrap());
        assert_eq!(
            parse_server("[::1]:54").unwrap(),
            "[::1]:54".parse().unwrap()
        );
        assert!(parse_server("resolver.example").is_err());
        assert!(parse_server("127.0.0.1:99999").is_err());
    }

    #[test]
    fn status_to_exit() {
        assert_eq!(RouteStatus::NullMx.exit_status().code(), 69);
        assert_eq!(RouteStatus::Nxdomain.exit_status().code(), 68);
        assert_eq!(RouteStatus::Timeout.exit_status().code(), 75);
        assert_eq!(RouteStatus::Invalid.exit_status().code(), 65);
    }
}
