//! `sipkit demo`: two user agents (two [`Endpoint`]s) in this process, on loopback UDP. Alice calls Bob with
//! an SDP offer, Bob answers, Alice puts the call on hold and resumes it, then hangs up;
//! the ladder of every message between them is drawn as it happens, and one line sums up.

use std::io::IsTerminal;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_message::{Message, Uri};
use sip_sdp::SessionDescription;
use sip_ua::driver::{Direction, Tap, Traced};
use sip_ua::endpoint::{Call, Endpoint, Listener};
use sip_ua::uac::{CallEnd, CallEvent};

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

/// The next event of `call`, or why there is none (the call ended, or nothing in time).
async fn next_call_event(call: &mut Call) -> Result<CallEvent, String> {
    match tokio::time::timeout(STEP_TIMEOUT, call.next_event()).await {
        Ok(Some(event)) => Ok(event),
        Ok(None) => Err("the call stopped reporting".into()),
        Err(_) => Err("no event in time".into()),
    }
}

/// Waits for `wanted`, passing over provisional news.
async fn expect(call: &mut Call, wanted: fn(&CallEvent) -> bool, what: &str) -> Result<CallEvent, String> {
    loop {
        let event = next_call_event(call).await?;
        if wanted(&event) {
            return Ok(event);
        }
        match event {
            CallEvent::Trying | CallEvent::Ringing | CallEvent::EarlyMedia(_) => {}
            other => return Err(format!("waiting for {what}, got {other:?}")),
        }
    }
}

/// Lets the call run for `pause`; nothing may happen to it meanwhile.
async fn hold_still(call: &mut Call, pause: Duration) -> Result<(), String> {
    match tokio::time::timeout(pause, call.next_event()).await {
        Err(_) => Ok(()),
        Ok(event) => Err(format!("the call changed by itself: {event:?}")),
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
    let loopback = Listener::Udp(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    // Bob: an Endpoint that rings and accepts every call offered to it.
    let bob = Endpoint::builder()
        .listen(loopback.clone())
        .identity("sip:bob@127.0.0.1".parse().map_err(|e| format!("Bob's identity: {e}"))?)
        .build()
        .await
        .map_err(|e| format!("Bob: {e}"))?;
    let bob_addr = bob.local_addrs().first().map(|(_, a)| *a).ok_or("Bob has no address")?;
    let callee = tokio::spawn(async move {
        let mut offered = bob.next_call().await.ok_or("no call came to Bob")?;
        offered.ring().await.map_err(|e| e.to_string())?;
        offered.accept().await.map_err(|e| e.to_string())?;
        let ended = offered.ended().await.map_err(|e| e.to_string())?;
        bob.shutdown().await;
        Ok::<_, String>(ended)
    });

    // Alice: the caller, whose wire the ladder shows.
    let count = Arc::new(AtomicUsize::new(0));
    let alice = Endpoint::builder()
        .listen(loopback)
        .identity("sip:alice@127.0.0.1".parse().map_err(|e| format!("Alice's identity: {e}"))?)
        .trace(ladder(started, Arc::clone(&count)))
        .build()
        .await
        .map_err(|e| format!("Alice: {e}"))?;
    let alice_addr = alice.local_addrs().first().map(|(_, a)| *a).ok_or("Alice has no address")?;

    println!("sipkit demo: two user agents in this process, over UDP on loopback");
    println!("{:7}  alice {alice_addr:<w$} bob {bob_addr}", "", w = WIDTH - 10);
    let bob_uri: Uri = format!("sip:bob@{bob_addr}").parse().map_err(|e| format!("Bob's URI: {e}"))?;
    let mut call = alice.call(bob_uri).await.map_err(|e| e.to_string())?;
    let answered = expect(&mut call, |e| matches!(e, CallEvent::Answered(_)), "the answer").await?;
    let CallEvent::Answered(Some(answer)) = answered else { return Err("the answer had no SDP".into()) };
    let codec = codec(&answer);
    hold_still(&mut call, PAUSE).await?;
    call.hold().await.map_err(|e| e.to_string())?;
    expect(&mut call, |e| *e == CallEvent::Held, "the hold").await?;
    hold_still(&mut call, PAUSE).await?;
    call.resume().await.map_err(|e| e.to_string())?;
    expect(&mut call, |e| *e == CallEvent::Resumed, "the resume").await?;
    hold_still(&mut call, PAUSE).await?;
    call.hangup().await.map_err(|e| e.to_string())?;
    let ended = expect(&mut call, |e| matches!(e, CallEvent::Ended(_)), "the end").await?;
    if ended != CallEvent::Ended(CallEnd::HungUp) {
        return Err(format!("the call ended otherwise: {ended:?}"));
    }
    let bob_saw = tokio::time::timeout(STEP_TIMEOUT, callee)
        .await
        .map_err(|_| "Bob did not see the call end".to_owned())?
        .map_err(|e| format!("Bob's task: {e}"))??;
    if bob_saw != sip_dialog::EndReason::ByeReceived {
        return Err(format!("Bob saw the call end otherwise: {bob_saw:?}"));
    }
    let messages = count.load(Ordering::Relaxed);
    alice.shutdown().await;
    Ok(format!(
        "sipkit demo: ok: call answered ({codec}), held, resumed and hung up; {messages} messages in {:.3} s",
        started.elapsed().as_secs_f64()
    ))
}
