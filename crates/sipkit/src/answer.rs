//! `sipkit answer`: a UAS on the listeners given that answers every INVITE (200 with an SDP
//! answer, after ringing if asked, or a rejection), OPTIONS and MESSAGE with 200, and BYE;
//! serves the subscriptions to the event packages it is given; one line per call on
//! standard output.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sip_message::StatusCode;
use sip_transaction::Config;
use sip_transport::tls::TlsConfig;
use sip_transport::{DEFAULT_INCOMING_CAPACITY, TransportSet, incoming_channel};
use sip_ua::answer::{AnswerPolicy, Answerer, CallReport, serve};

use crate::transport::Transport;

/// One `--listen` value: `udp:ADDR`, `tcp:ADDR`, `tls:ADDR`, `ws:ADDR` or `wss:ADDR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listen {
    kind: Transport,
    addr: SocketAddr,
}

impl FromStr for Listen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (transport, addr) = s.split_once(':').ok_or("expected TRANSPORT:ADDRESS:PORT, as udp:127.0.0.1:5090")?;
        let kind: Transport = transport.parse()?;
        let addr = addr.parse().map_err(|e| format!("{addr:?}: {e}"))?;
        Ok(Self { kind, addr })
    }
}

/// The server side of TLS from a PEM certificate chain and key.
pub(crate) fn tls_server(cert: &Path, key: &Path) -> Result<TlsConfig, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let server = TlsConfig::server_with_certificate(chain, key).map_err(|e| format!("the certificate: {e}"))?;
    let client = TlsConfig::client_only().map_err(|e| format!("the TLS client side: {e}"))?.client;
    Ok(TlsConfig { server: Some(Arc::new(server)), client })
}

/// What `sipkit answer` is asked to do.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) listen: Vec<Listen>,
    /// The certificate chain and key (PEM) for TLS and WSS listeners.
    pub(crate) cert: Option<(PathBuf, PathBuf)>,
    pub(crate) ring: Option<Duration>,
    pub(crate) reject: Option<u16>,
    /// [`Config::max_transactions`].
    pub(crate) max_transactions: usize,
    /// [`AnswerPolicy::serve_events`].
    pub(crate) serve_events: Vec<String>,
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
    // The Contact names where the first listener is bound (its port, when 0 was asked).
    let mut first_bound = None;
    // Each transport's calls get the Contact of its own listener.
    let mut contacts = Vec::new();
    let needs_tls = options.listen.iter().any(|l| l.kind.secure());
    let tls = match (&options.cert, needs_tls) {
        (Some((cert, key)), true) => Some(tls_server(cert, key)?),
        (None, true) => return Err("tls and wss listeners need --cert and --key".into()),
        _ => None,
    };
    for listen in &options.listen {
        let transport = listen.kind.bind(listen.addr, tls.as_ref(), incoming_tx.clone()).await?;
        for (name, bound) in transport.local_addrs() {
            first_bound.get_or_insert(bound);
            let known = contacts.iter().any(|(t, _)| *t == name);
            if !known {
                contacts.push((name.clone(), listen.kind.contact("sipkit", bound)?));
            }
            local.push(format!("{}:{bound}", name.as_str().to_ascii_lowercase()));
        }
        transports = transports.with_shared(transport);
    }
    drop(incoming_tx);
    let contact_addr = first_bound.unwrap_or(first.addr);
    let contact = first.kind.contact("sipkit", contact_addr)?;
    let policy =
        AnswerPolicy { ring: options.ring, reject, serve_events: options.serve_events, ..AnswerPolicy::default() };
    let mut answerer = Answerer::new(policy, contact, first.addr.ip());
    for (transport, contact) in contacts {
        answerer = answerer.with_contact_for(transport, contact);
    }
    println!("sipkit answer: listening on {}", local.join(", "));
    let log = CallLog::start();
    let config = Config { max_transactions: options.max_transactions, ..Config::default() };
    let serving = serve(answerer, config, transports, incoming, |report: &CallReport| {
        let outcome = if report.answered { "answered" } else { "not answered" };
        log.line(format_args!("call {} from {}: {outcome}, ended: {:?}", report.call_id, report.from, report.ended));
    });
    // Stopped by a signal, it still writes the call lines waiting for their batch.
    tokio::select! {
        () = serving => {}
        () = stop_signal() => {}
    }
    log.flush();
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM; never, when they cannot be caught.
async fn stop_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// How long a call's line may wait before it is written out with the lines after it.
pub(crate) const CALL_LOG_DELAY: Duration = Duration::from_millis(100);

/// The call lines on standard output, written in batches: the first line of a batch starts
/// a [`CALL_LOG_DELAY`] wait, then everything logged meanwhile goes out in one write. Under
/// load that is one system call per batch instead of one per call; when idle, nothing wakes.
struct CallLog {
    pending: Arc<std::sync::Mutex<Vec<u8>>>,
    wake: Arc<tokio::sync::Notify>,
}

impl CallLog {
    /// Starts the task that writes the batches (on the current runtime).
    fn start() -> Self {
        let log = Self { pending: Arc::default(), wake: Arc::default() };
        let (pending, wake) = (Arc::clone(&log.pending), Arc::clone(&log.wake));
        tokio::spawn(async move {
            // The batch written last, kept (emptied) for the next: the two buffers keep
            // their capacity instead of growing anew for every batch.
            let mut batch = Vec::new();
            loop {
                wake.notified().await;
                tokio::time::sleep(CALL_LOG_DELAY).await;
                write_out(&pending, &mut batch);
            }
        });
        log
    }

    /// Adds one line.
    fn line(&self, text: std::fmt::Arguments<'_>) {
        use std::io::Write as _;
        let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let first = pending.is_empty();
        let _ = writeln!(pending, "{text}");
        if first {
            // A stored permit: the writer runs even if it is not waiting yet.
            self.wake.notify_one();
        }
    }

    /// Writes out what is pending now.
    fn flush(&self) {
        write_out(&self.pending, &mut Vec::new());
    }
}

/// Swaps the pending lines with the empty `batch`, writes them, and leaves `batch` empty.
fn write_out(pending: &std::sync::Mutex<Vec<u8>>, batch: &mut Vec<u8>) {
    use std::io::Write as _;
    std::mem::swap(&mut *pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner), batch);
    if !batch.is_empty() {
        let mut out = std::io::stdout().lock();
        // Nobody to tell if standard output is gone.
        let _ = out.write_all(batch).and_then(|()| out.flush());
    }
    batch.clear();
}
