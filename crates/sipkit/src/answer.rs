//! `sipkit answer`: a UAS on the listeners given that answers every INVITE (200 with an SDP
//! answer, after ringing if asked, or a rejection), OPTIONS and MESSAGE with 200, and BYE;
//! one line per call on standard output.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use sip_message::{StatusCode, Uri};
use sip_transaction::Config;
use sip_transport::stream::StreamSettings;
use sip_transport::tcp::TcpTransport;
use sip_transport::udp::{UdpSettings, UdpTransport};
use sip_transport::{DEFAULT_INCOMING_CAPACITY, TransportSet, incoming_channel};
use sip_ua::answer::{AnswerPolicy, Answerer, CallReport, serve};
use sip_ua::driver::TransactionDriver;

/// One `--listen` value: `udp:ADDR` or `tcp:ADDR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listen {
    reliable: bool,
    addr: SocketAddr,
}

impl FromStr for Listen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (transport, addr) = s.split_once(':').ok_or("expected TRANSPORT:ADDRESS:PORT, as udp:127.0.0.1:5090")?;
        let reliable = match transport.to_ascii_lowercase().as_str() {
            "udp" => false,
            "tcp" => true,
            other => return Err(format!("transport {other:?} is not one `answer` listens on (udp, tcp)")),
        };
        let addr = addr.parse().map_err(|e| format!("{addr:?}: {e}"))?;
        Ok(Self { reliable, addr })
    }
}

/// What `sipkit answer` is asked to do.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) listen: Vec<Listen>,
    pub(crate) ring: Option<Duration>,
    pub(crate) reject: Option<u16>,
}

pub(crate) fn run(options: Options) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sipkit answer: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(answer(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sipkit answer: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn answer(options: Options) -> Result<(), String> {
    let reject = match options.reject {
        Some(code) => match StatusCode::new(code) {
            Some(status) if (300..700).contains(&code) => Some(status),
            _ => return Err(format!("--reject {code}: a rejection takes a 300-699 status")),
        },
        None => None,
    };
    let first = *options.listen.first().ok_or("give at least one --listen")?;
    let (incoming_tx, incoming) = incoming_channel(DEFAULT_INCOMING_CAPACITY);
    let mut transports = TransportSet::new();
    let mut local = Vec::new();
    for listen in &options.listen {
        if listen.reliable {
            let tcp = TcpTransport::bind(listen.addr, StreamSettings::default(), incoming_tx.clone())
                .await
                .map_err(|e| format!("tcp:{}: {e}", listen.addr))?;
            local.push(format!("tcp:{}", tcp.local_addr()));
            transports = transports.with(tcp);
        } else {
            let udp = UdpTransport::bind(listen.addr, UdpSettings::default(), incoming_tx.clone())
                .await
                .map_err(|e| format!("udp:{}: {e}", listen.addr))?;
            local.push(format!("udp:{}", udp.local_addr()));
            transports = transports.with(udp);
        }
    }
    drop(incoming_tx);
    let transport = if first.reliable { ";transport=tcp" } else { "" };
    let contact: Uri =
        format!("sip:sipkit@{}{transport}", first.addr).parse().map_err(|e| format!("the Contact URI: {e}"))?;
    let policy = AnswerPolicy { ring: options.ring, reject, ..AnswerPolicy::default() };
    let answerer = Answerer::new(policy, contact, first.addr.ip());
    let (driver, events, _task) = TransactionDriver::spawn(Config::default(), transports, incoming);
    println!("sipkit answer: listening on {}", local.join(", "));
    serve(answerer, driver, events, |report: &CallReport| {
        let outcome = if report.answered { "answered" } else { "not answered" };
        println!("call {} from {}: {outcome}, ended: {:?}", report.call_id, report.from, report.ended);
    })
    .await;
    Ok(())
}
