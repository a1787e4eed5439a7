//! `sipkit call`, `register`, `subscribe`, `options` and `message`: one UAC, bound to a
//! local port, that places a call (answer, hold, resume, hang up), subscribes (NOTIFYs,
//! unsubscribe) or sends one request, and draws the message ladder as it goes.

use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sip_auth::DigestClient;
use sip_dialog::SubscriptionState;
use sip_message::header::{MediaType, NameAddr};
use sip_message::{Message, Method, StatusCode, Uri};
use sip_transaction::Config;
use sip_transport::tls::TlsConfig;
use sip_transport::{DEFAULT_INCOMING_CAPACITY, TransportSet, incoming_channel};
use sip_ua::driver::{Direction, Tap, Traced, TransactionDriver};
use sip_ua::runner::{UacRunner, now};
use sip_ua::uac::{CallEnd, CallEvent, Peer, RegistrationEvent, SubscriptionEvent, Uac, UacConfig, UacEvent};

pub(crate) use crate::transport::Transport;

/// The client side of TLS: the servers `ca` (PEM) vouches for, or the Mozilla roots.
fn tls_client(ca: Option<&std::path::Path>) -> Result<TlsConfig, String> {
    let Some(ca) = ca else { return TlsConfig::client_only().map_err(|e| format!("TLS: {e}")) };
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
    for cert in certs {
        roots.add(cert.map_err(|e| format!("{}: {e}", ca.display()))?).map_err(|e| format!("{}: {e}", ca.display()))?;
    }
    let client = TlsConfig::client_with_roots(roots).map_err(|e| format!("TLS: {e}"))?;
    Ok(TlsConfig { server: None, client: Arc::new(client) })
}

/// What every UAC command takes.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    pub(crate) transport: Option<Transport>,
    pub(crate) local: Option<SocketAddr>,
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) proxy: Option<String>,
    pub(crate) trace_sip: bool,
    pub(crate) linger: Duration,
    pub(crate) ca: Option<std::path::PathBuf>,
}

/// What a UAC command does.
#[derive(Debug, Clone)]
pub(crate) enum Task {
    Call { duration: Duration, hold: bool },
    Register { expires: u32 },
    Subscribe { event: String, expires: u32, duration: Duration },
    Options,
    Message { text: String },
}

fn name(task: &Task) -> &'static str {
    match task {
        Task::Call { .. } => "call",
        Task::Register { .. } => "register",
        Task::Subscribe { .. } => "subscribe",
        Task::Options => "options",
        Task::Message { .. } => "message",
    }
}

pub(crate) fn run(target: &str, common: Common, task: Task) -> ExitCode {
    let command = name(&task);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sipkit {command}: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(uac(target, common, task)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("sipkit {command}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The local address that reaches `remote` (the kernel's route choice; nothing is sent).
fn local_ip_towards(remote: SocketAddr) -> IpAddr {
    let unspecified =
        if remote.is_ipv4() { IpAddr::V4(Ipv4Addr::UNSPECIFIED) } else { IpAddr::V6(Ipv6Addr::UNSPECIFIED) };
    UdpSocket::bind(SocketAddr::new(unspecified, 0))
        .and_then(|s| s.connect(remote).and_then(|()| s.local_addr()))
        .map_or(unspecified, |a| a.ip())
}

/// Draws each message as one line of a ladder (and the whole message with `--trace-sip`).
fn ladder(start: Instant, trace_sip: bool) -> Tap {
    let colour = std::io::stdout().is_terminal();
    Arc::new(move |t: &Traced| {
        let elapsed = start.elapsed().as_secs_f64();
        let summary = summary(&t.bytes);
        let paint = |code: &str, s: &str| if colour { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_owned() };
        let line = match t.direction {
            Direction::Sent => format!("──── {summary} ───▶"),
            Direction::Received => format!("◀─── {summary} ────"),
        };
        let code = match summary.as_bytes().first() {
            Some(b'1') => "33",
            Some(b'2') => "32",
            Some(b'3'..=b'6') => "31",
            _ => "36",
        };
        println!("{elapsed:8.3}  {}  {} {}", paint(code, &line), t.transport, t.peer);
        if trace_sip {
            for l in String::from_utf8_lossy(&t.bytes).lines() {
                println!("            | {l}");
            }
        }
    })
}

/// `INVITE sip:bob@host` or `200 OK (INVITE)`: the start line, shortened.
pub(crate) fn summary(bytes: &Bytes) -> String {
    match Message::parse(bytes.clone()) {
        Ok(Message::Request(r)) => format!("{} {}", r.method, r.uri),
        Ok(Message::Response(r)) => {
            let method = r.headers.cseq().and_then(Result::ok).map(|c| c.method.to_string()).unwrap_or_default();
            format!("{} {} ({method})", r.status.as_u16(), r.reason())
        }
        Err(e) => format!("unparsable message ({e})"),
    }
}

async fn uac(target: &str, common: Common, task: Task) -> Result<bool, String> {
    let uri: Uri = target.parse().map_err(|e| format!("{target:?}: {e}"))?;
    let Uri::Sip(sip) = &uri else { return Err(format!("{target}: not a sip or sips URI")) };
    let proxy: Option<Uri> =
        common.proxy.as_deref().map(str::parse).transpose().map_err(|e| format!("--proxy: {e}"))?;
    let next_hop = sip_ua::endpoint::locate(proxy.as_ref().unwrap_or(&uri), common.transport.map(Transport::name))
        .await
        .map_err(|e| e.to_string())?;
    let transport = Transport::of(&next_hop.transport);
    let local = common.local.unwrap_or_else(|| SocketAddr::new(local_ip_towards(next_hop.remote), 0));

    let (incoming_tx, incoming) = incoming_channel(DEFAULT_INCOMING_CAPACITY);
    let tls = if transport.secure() { Some(tls_client(common.ca.as_deref())?) } else { None };
    let bound_transport = transport.bind(local, tls.as_ref(), incoming_tx).await?;
    let bound = Transport::bound(bound_transport.as_ref(), local);
    let transports = TransportSet::new().with_shared(bound_transport);
    let user = common.user.clone().unwrap_or_else(|| "sipkit".to_owned());
    let contact = transport.contact(&user, bound)?;
    let identity: Uri = format!("sip:{user}@{}", sip.host_str()).parse().map_err(|e| format!("the From URI: {e}"))?;
    let mut peer = Peer::new(uri.clone(), next_hop.clone(), NameAddr::new(identity.clone()));
    if let Some(proxy) = proxy {
        let loose = format!("{proxy};lr").parse().unwrap_or(proxy);
        peer.route.push(loose);
    }
    if let (Some(user), Some(password)) = (&common.user, &common.password) {
        peer.credentials = Some(DigestClient::new(user.clone(), password.clone()));
    }
    let uac = Uac::new(UacConfig::new(contact.clone(), bound.ip()));
    let tap = ladder(Instant::now(), common.trace_sip);
    let (driver, events, _task) = TransactionDriver::spawn_traced(Config::default(), transports, incoming, Some(tap));
    let mut runner = UacRunner::new(uac, driver, events);
    let command = name(&task);
    println!("sipkit {command}: {uri} from {} over {}", bound, next_hop.transport);
    let done = match task {
        Task::Call { duration, hold } => call(&mut runner, peer, duration, hold).await,
        Task::Register { expires } => {
            let registration =
                runner.uac().register(now(), peer, NameAddr::new(identity), NameAddr::new(contact), expires);
            registration.map_err(|e| e.to_string())?;
            match runner.next_event(None).await {
                Some(UacEvent::Registration { event: RegistrationEvent::Registered { expires }, .. }) => {
                    println!("sipkit register: registered {uri} for {expires} s");
                    Ok(true)
                }
                other => {
                    println!("sipkit register: not registered: {}", describe(other));
                    Ok(false)
                }
            }
        }
        Task::Subscribe { event, expires, duration } => subscribe(&mut runner, peer, &event, expires, duration).await,
        Task::Options => single(&mut runner, Method::OPTIONS, peer, None).await,
        Task::Message { text } => {
            let body = (MediaType::new("text", "plain").map_err(|e| e.to_string())?, Bytes::from(text));
            single(&mut runner, Method::MESSAGE, peer, Some(body)).await
        }
    };
    if !common.linger.is_zero() {
        // Still answering (a retransmitted BYE, say) while the connections stay open.
        let until = tokio::time::Instant::now() + common.linger;
        while runner.next_event(Some(until)).await.is_some() {}
    }
    done
}

fn describe(event: Option<UacEvent>) -> String {
    match event {
        Some(UacEvent::Registration { event: RegistrationEvent::Failed(e), .. }) => e.to_string(),
        Some(UacEvent::Response { outcome: Err(e), .. }) => e.to_string(),
        Some(UacEvent::Subscription { event: SubscriptionEvent::Failed(e), .. }) => e.to_string(),
        Some(UacEvent::Call { event: CallEvent::Ended(end), .. }) => format!("{end:?}"),
        Some(other) => format!("{other:?}"),
        None => "the transport stopped".to_owned(),
    }
}

async fn single(
    runner: &mut UacRunner,
    method: Method,
    peer: Peer,
    body: Option<(MediaType, Bytes)>,
) -> Result<bool, String> {
    runner.uac().request(now(), method.clone(), peer, body).map_err(|e| e.to_string())?;
    match runner.next_event(None).await {
        Some(UacEvent::Response { outcome: Ok(response), .. }) => {
            let reason = response.reason().to_owned();
            println!("sipkit {}: {} {reason}", method.to_string().to_ascii_lowercase(), response.status.as_u16());
            Ok(response.status.is_success())
        }
        other => {
            println!("sipkit {}: failed: {}", method.to_string().to_ascii_lowercase(), describe(other));
            Ok(false)
        }
    }
}

/// How long `sipkit subscribe` stays after the final NOTIFY, answering it again if it
/// comes again (its 200 lost).
const AFTER_THE_END: Duration = Duration::from_millis(600);

/// Subscribes, prints each NOTIFY, unsubscribes after `duration` and waits for the final
/// NOTIFY: clean when accepted, notified at least once, and ended by the unsubscribing
/// (or by the notifier).
async fn subscribe(
    runner: &mut UacRunner,
    peer: Peer,
    event: &str,
    expires: u32,
    duration: Duration,
) -> Result<bool, String> {
    let subscription = runner.uac().subscribe(now(), peer, event, expires, None).map_err(|e| e.to_string())?;
    let mut accepted = false;
    let mut notified = 0;
    let mut unsubscribe_at = None;
    loop {
        let Some(event) = runner.next_event(unsubscribe_at).await else {
            if unsubscribe_at.take().is_some() {
                runner.uac().unsubscribe(now(), subscription).map_err(|e| e.to_string())?;
                continue;
            }
            println!("sipkit subscribe: the transport stopped");
            return Ok(false);
        };
        let UacEvent::Subscription { event, .. } = event else { continue };
        match event {
            SubscriptionEvent::Accepted { expires } => {
                accepted = true;
                unsubscribe_at = Some(tokio::time::Instant::now() + duration);
                println!("sipkit subscribe: accepted for {expires} s");
            }
            SubscriptionEvent::Notified { state, body } => {
                notified += 1;
                let state = match state {
                    SubscriptionState::Active => "active".to_owned(),
                    SubscriptionState::Pending => "pending".to_owned(),
                    SubscriptionState::Terminated(reason) => format!("terminated ({})", reason.unwrap_or_default()),
                };
                let body = body.map_or_else(
                    || "no body".to_owned(),
                    |(kind, bytes)| format!("{}/{}, {} bytes", kind.kind(), kind.subtype(), bytes.len()),
                );
                println!("sipkit subscribe: NOTIFY {state}: {body}");
            }
            SubscriptionEvent::Terminated(reason) => {
                // The 200 to the final NOTIFY goes out, and a retransmission of it is answered.
                let until = tokio::time::Instant::now() + AFTER_THE_END;
                while runner.next_event(Some(until)).await.is_some() {}
                let reason = reason.unwrap_or_else(|| "no reason given".to_owned());
                println!("sipkit subscribe: ended ({reason}) after {notified} NOTIFY");
                return Ok(accepted && notified > 0);
            }
            SubscriptionEvent::Failed(e) => {
                println!("sipkit subscribe: not subscribed: {e}");
                return Ok(false);
            }
        }
    }
}

/// Waits for the call's next event that `wanted` takes (the ones before are printed by the
/// ladder already); `None` when the call ended first (with how) or nothing came in time.
async fn wait_for(
    runner: &mut UacRunner,
    until: Option<tokio::time::Instant>,
    mut wanted: impl FnMut(&CallEvent) -> bool,
) -> Result<CallEvent, Option<CallEnd>> {
    loop {
        match runner.next_event(until).await {
            Some(UacEvent::Call { event, .. }) if wanted(&event) => return Ok(event),
            Some(UacEvent::Call { event: CallEvent::Ended(end), .. }) => return Err(Some(end)),
            // `sipkit call` places one call: a transfer the peer asks for is declined, in
            // the NOTIFY that ends it (RFC 3515 §2.4.5).
            Some(UacEvent::Call { call, event: CallEvent::TransferRequested { target } }) => {
                println!("sipkit call: the peer asks for a transfer to {target}: declined (603)");
                let _ = runner.uac().transfer_progress(now(), call, StatusCode::DECLINE);
            }
            Some(_) => {}
            None => return Err(None),
        }
    }
}

async fn call(runner: &mut UacRunner, peer: Peer, duration: Duration, hold: bool) -> Result<bool, String> {
    let started = Instant::now();
    let call = runner.uac().call(now(), peer).map_err(|e| e.to_string())?;
    let mut steps = Vec::new();
    let outcome = async {
        wait_for(runner, None, |e| matches!(e, CallEvent::Answered(_))).await?;
        steps.push("answered");
        if hold {
            for (verb, done) in [("held", CallEvent::Held), ("resumed", CallEvent::Resumed)] {
                let asked = if done == CallEvent::Held {
                    runner.uac().hold(now(), call)
                } else {
                    runner.uac().resume(now(), call)
                };
                if asked.is_err() {
                    return Err(None);
                }
                let failed = |e: &CallEvent| matches!(e, CallEvent::RequestFailed { .. });
                match wait_for(runner, None, |e| *e == done || failed(e)).await? {
                    CallEvent::RequestFailed { status, .. } => {
                        steps.push(if done == CallEvent::Held { "hold refused" } else { "resume refused" });
                        println!("sipkit call: the re-INVITE got {status}");
                        return Err(None);
                    }
                    _ => steps.push(verb),
                }
            }
        }
        let until = tokio::time::Instant::now() + duration;
        if let Err(Some(end)) = wait_for(runner, Some(until), |_| false).await {
            return Err(Some(end));
        }
        if runner.uac().hangup(now(), call).is_err() {
            return Err(None);
        }
        wait_for(runner, None, |_| false).await.map(|_| ())
    }
    .await;
    let end = match outcome {
        Err(Some(end)) => Some(end),
        _ => None,
    };
    let clean = steps.first() == Some(&"answered")
        && (!hold || steps.contains(&"resumed"))
        && matches!(end, Some(CallEnd::HungUp | CallEnd::RemoteHangup));
    let how = match &end {
        Some(CallEnd::HungUp) => "hung up".to_owned(),
        Some(CallEnd::RemoteHangup) => "the peer hung up".to_owned(),
        Some(CallEnd::Failed(e)) => format!("failed: {e}"),
        Some(CallEnd::Session(reason)) => format!("ended: {reason:?}"),
        None => "did not end cleanly".to_owned(),
    };
    let steps = if steps.is_empty() { "not answered".to_owned() } else { steps.join(", ") };
    println!("sipkit call: {steps}; {how} after {:.3} s", started.elapsed().as_secs_f64());
    Ok(clean)
}
