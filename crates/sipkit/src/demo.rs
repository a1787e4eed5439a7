//! `sipkit demo`: two user agents in this process, on loopback UDP. Alice calls Bob with
//! an SDP offer, Bob answers, Alice puts the call on hold and resumes it, then hangs up;
//! the ladder of every message between them is drawn as it happens, and one line sums up.

use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_message::header::NameAddr;
use sip_message::{Message, Uri};
use sip_sdp::SessionDescription;
use sip_transaction::Config;
use sip_transport::udp::{UdpSettings, UdpTransport};
use sip_transport::{DEFAULT_INCOMING_CAPACITY, Target, TransportSet, incoming_channel};
use sip_ua::answer::{AnswerPolicy, Answerer, CallReport, serve};
use sip_ua::driver::{Direction, Tap, Traced, TransactionDriver};
use sip_ua::runner::{UacRunner, now};
use sip_ua::uac::{CallEnd, CallEvent, Handle, Peer, Uac, UacConfig, UacEvent};

/// How long the call stays up between its steps.
const PAUSE: Duration = Duration::from_millis(150);

/// How long any one step may take before the demo gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// The width of the ladder between the two lifelines.
const WIDTH: usize = 46;

pub(crate) fn run() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sipkit demo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(demo()) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("sipkit demo: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a message says in the ladder: `INVITE`, `200 OK`, with its SDP's direction.
fn label(bytes: &Bytes) -> String {
    let Ok(message) = Message::parse(bytes.clone()) else { return "(unparsable)".to_owned() };
    let (start, body) = match &message {
        Message::Request(r) => (r.method.to_string(), &r.body),
        Message::Response(r) => {
            let method = r.headers.cseq().and_then(Result::ok).map(|c| c.method.to_string()).unwrap_or_default();
            (format!("{} {} ({method})", r.status.as_u16(), r.reason()), &r.body)
        }
    };
    match SessionDescription::parse_lenient(body.clone()) {
        Ok(sdp) if !body.is_empty() => format!("{start} SDP {}", sdp.media_direction(0).name()),
        _ => start,
    }
}

/// Draws Alice's side of the wire as a two-column ladder; counts the messages.
fn ladder(start: Instant, count: Arc<AtomicUsize>) -> Tap {
    let colour = std::io::stdout().is_terminal();
    Arc::new(move |t: &Traced| {
        count.fetch_add(1, Ordering::Relaxed);
        let text = label(&t.bytes);
        let pad = WIDTH.saturating_sub(text.chars().count() + 4);
        let (left, right) = (pad / 2, pad - pad / 2);
        let arrow = match t.direction {
            Direction::Sent => format!("{} {text} {}▶", "─".repeat(left + 1), "─".repeat(right)),
            Direction::Received => format!("◀{} {text} {}", "─".repeat(left), "─".repeat(right + 1)),
        };
        let code = match text.as_bytes().first() {
            Some(b'1') => "33",
            Some(b'2') => "32",
            Some(b'3'..=b'6') => "31",
            _ => "36",
        };
        let arrow = if colour { format!("\x1b[{code}m{arrow}\x1b[0m") } else { arrow };
        println!("{:7.3}  │{arrow}│", start.elapsed().as_secs_f64());
    })
}

async fn udp(incoming: sip_transport::IncomingSender) -> Result<(UdpTransport, SocketAddr), String> {
    let udp = UdpTransport::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), UdpSettings::default(), incoming)
        .await
        .map_err(|e| format!("binding 127.0.0.1: {e}"))?;
    let local = udp.local_addr();
    Ok((udp, local))
}

/// The next event of `call`, or why there is none (the call ended, or nothing in time).
async fn next_call_event(alice: &mut UacRunner, call: Handle) -> Result<CallEvent, String> {
    let until = tokio::time::Instant::now() + STEP_TIMEOUT;
    loop {
        match alice.next_event(Some(until)).await {
            Some(UacEvent::Call { call: c, event }) if c == call => return Ok(event),
            Some(_) => {}
            None => return Err("no event in time".into()),
        }
    }
}

/// Waits for `wanted`, passing over provisional news.
async fn expect(
    alice: &mut UacRunner,
    call: Handle,
    wanted: fn(&CallEvent) -> bool,
    what: &str,
) -> Result<CallEvent, String> {
    loop {
        let event = next_call_event(alice, call).await?;
        if wanted(&event) {
            return Ok(event);
        }
        match event {
            CallEvent::Trying | CallEvent::Ringing | CallEvent::EarlyMedia(_) => {}
            other => return Err(format!("waiting for {what}, got {other:?}")),
        }
    }
}

/// Lets the call run for `pause` (Alice still answers whatever comes).
async fn hold_still(alice: &mut UacRunner, pause: Duration) -> Result<(), String> {
    let until = tokio::time::Instant::now() + pause;
    match alice.next_event(Some(until)).await {
        None => Ok(()),
        Some(event) => Err(format!("the call changed by itself: {event:?}")),
    }
}

/// The first codec of the first stream of `sdp`.
fn codec(sdp: &SessionDescription) -> String {
    let Some(media) = sdp.media.first() else { return "no media".to_owned() };
    let Some(format) = media.formats.first() else { return "no format".to_owned() };
    let pt: Option<u8> = format.as_str().parse().ok();
    match pt.and_then(|pt| media.rtpmap(pt)) {
        Some(map) => map.encoding.as_str().to_owned(),
        None => match pt {
            Some(0) => "PCMU".to_owned(),
            Some(8) => "PCMA".to_owned(),
            _ => format.as_str().to_owned(),
        },
    }
}

async fn demo() -> Result<String, String> {
    let started = Instant::now();
    // Bob: an answering UAS.
    let (bob_tx, bob_incoming) = incoming_channel(DEFAULT_INCOMING_CAPACITY);
    let (bob_udp, bob_addr) = udp(bob_tx).await?;
    let bob_contact: Uri = format!("sip:bob@{bob_addr}").parse().map_err(|e| format!("Bob's Contact: {e}"))?;
    let bob = Answerer::new(AnswerPolicy::default(), bob_contact, IpAddr::V4(Ipv4Addr::LOCALHOST));
    let (bob_driver, bob_events, _bob_task) =
        TransactionDriver::spawn(Config::default(), TransportSet::new().with(bob_udp), bob_incoming);
    let reports: Arc<Mutex<Vec<CallReport>>> = Arc::default();
    let bob_reports = Arc::clone(&reports);
    let bob_task = tokio::spawn(serve(bob, bob_driver, bob_events, move |report: &CallReport| {
        if let Ok(mut r) = bob_reports.lock() {
            r.push(report.clone());
        }
    }));

    // Alice: the caller, whose wire the ladder shows.
    let (alice_tx, alice_incoming) = incoming_channel(DEFAULT_INCOMING_CAPACITY);
    let (alice_udp, alice_addr) = udp(alice_tx).await?;
    let alice_contact: Uri = format!("sip:alice@{alice_addr}").parse().map_err(|e| format!("Alice's Contact: {e}"))?;
    let uac = Uac::new(UacConfig::new(alice_contact, IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let count = Arc::new(AtomicUsize::new(0));
    let (alice_driver, alice_events, _alice_task) = TransactionDriver::spawn_traced(
        Config::default(),
        TransportSet::new().with(alice_udp),
        alice_incoming,
        Some(ladder(started, Arc::clone(&count))),
    );
    let mut alice = UacRunner::new(uac, alice_driver, alice_events);

    println!("sipkit demo: two user agents in this process, over UDP on loopback");
    println!("{:7}  alice {alice_addr:<w$} bob {bob_addr}", "", w = WIDTH - 10);
    let bob_uri: Uri = format!("sip:bob@{bob_addr}").parse().map_err(|e| format!("Bob's URI: {e}"))?;
    let from = NameAddr::new("sip:alice@127.0.0.1".parse::<Uri>().map_err(|e| e.to_string())?);
    let peer = Peer::new(bob_uri, Target::new(sip_message::header::Transport::UDP, bob_addr), from);
    let call = alice.uac().call(now(), peer).map_err(|e| e.to_string())?;

    let answered = expect(&mut alice, call, |e| matches!(e, CallEvent::Answered(_)), "the answer").await?;
    let CallEvent::Answered(Some(answer)) = answered else { return Err("the answer had no SDP".into()) };
    let codec = codec(&answer);
    hold_still(&mut alice, PAUSE).await?;
    alice.uac().hold(now(), call).map_err(|e| e.to_string())?;
    expect(&mut alice, call, |e| *e == CallEvent::Held, "the hold").await?;
    hold_still(&mut alice, PAUSE).await?;
    alice.uac().resume(now(), call).map_err(|e| e.to_string())?;
    expect(&mut alice, call, |e| *e == CallEvent::Resumed, "the resume").await?;
    hold_still(&mut alice, PAUSE).await?;
    alice.uac().hangup(now(), call).map_err(|e| e.to_string())?;
    let ended = expect(&mut alice, call, |e| matches!(e, CallEvent::Ended(_)), "the end").await?;
    if ended != CallEvent::Ended(CallEnd::HungUp) {
        return Err(format!("the call ended otherwise: {ended:?}"));
    }
    // Bob's report of the call comes once his side has taken the BYE.
    let until = Instant::now() + STEP_TIMEOUT;
    let bob_saw = loop {
        if let Some(report) = reports.lock().ok().and_then(|r| r.first().cloned()) {
            break report;
        }
        if Instant::now() > until {
            return Err("Bob did not report the call".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    bob_task.abort();
    if !bob_saw.answered || bob_saw.ended != sip_dialog::EndReason::ByeReceived {
        return Err(format!("Bob saw the call otherwise: {bob_saw:?}"));
    }
    Ok(format!(
        "sipkit demo: ok: call answered ({codec}), held, resumed and hung up; {} messages in {:.3} s",
        count.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    ))
}
