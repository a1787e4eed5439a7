//! `sipkit`: the sipkit command-line tool.
//!
//! `sipkit demo` runs two user agents in one process and draws their call as a ladder.
//! `sipkit parse [--json] FILE...` parses each file as one received datagram with both
//! depths of checking (`Message::parse` then `Message::validate`) and prints what it found.
//! `sipkit answer --listen udp:ADDR ...` runs an answering UAS. `sipkit call URI` places
//! a call (answer, hold, resume, hang up); `sipkit register`, `options` and `message` send
//! one request each; all three draw the message ladder.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// mimalloc: a call allocates about a hundred small values (messages, headers,
/// descriptions), and glibc's malloc spent an eighth of `sipkit answer`'s instructions on
/// them. The library crates leave the allocator to the program using them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod answer;
mod demo;
mod parse;
mod transport;
mod uac;

/// sipkit: a SIP stack and the tools around it.
#[derive(Debug, Parser)]
#[command(name = "sipkit", version, about)]
struct Cli {
    /// More log on standard error: -v info, -vv debug, -vvv trace (RUST_LOG, when set,
    /// decides instead).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

/// Logs with `tracing` to standard error, at the level `-v` asks for or as `RUST_LOG` says.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colour).with_writer(std::io::stderr).try_init();
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Two user agents in this process on loopback: a call with SDP offer/answer, hold,
    /// resume and hang-up, drawn as a message ladder.
    Demo,
    /// Parse and validate SIP messages, one datagram per file.
    Parse {
        /// One JSON object per file, one per line.
        #[arg(long)]
        json: bool,
        /// Files holding one message each ("-" for standard input).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Answer calls: 200 with an SDP answer (PCMU, PCMA, telephone-event) to every
    /// INVITE, 200 to OPTIONS, MESSAGE and BYE; one line per call.
    Answer {
        /// Where to listen: udp:, tcp:, tls:, ws: or wss:ADDRESS:PORT (repeatable).
        #[arg(long, required = true)]
        listen: Vec<answer::Listen>,
        /// The certificate chain (PEM) a tls: or wss: listener presents.
        #[arg(long, value_name = "PEM", requires = "key")]
        cert: Option<PathBuf>,
        /// The private key (PEM) of --cert.
        #[arg(long, value_name = "PEM", requires = "cert")]
        key: Option<PathBuf>,
        /// Ring (180) for this many milliseconds before answering.
        #[arg(long, value_name = "MS")]
        ring: Option<u64>,
        /// Reject every INVITE with this status (300-699) instead of answering.
        #[arg(long, value_name = "CODE")]
        reject: Option<u16>,
        /// Transactions kept at most; requests beyond them are answered 503. Over UDP a call
        /// keeps two for 32 s after its last request (the RFC 3261 timers J and L), so
        /// R calls/s need about 64 R.
        #[arg(long, value_name = "N", default_value_t = sip_transaction::DEFAULT_MAX_TRANSACTIONS)]
        max_transactions: usize,
        /// Accept SUBSCRIBEs for this event package (presence, dialog, ...; repeatable)
        /// and serve them (RFC 6665): 200, NOTIFYs without a body, refreshes, expiry.
        /// Another package gets 489.
        #[arg(long, value_name = "PACKAGE")]
        serve_event: Vec<String>,
    },
    /// Call URI: wait for the answer, hold and resume the call, hang up; exit 0 only
    /// when the call was answered and ended cleanly.
    Call {
        /// The callee, as sip:user@host or sip:user@host:port.
        uri: String,
        /// How long the call lasts once answered (and resumed), in seconds.
        #[arg(long, value_name = "S", default_value_t = 1.0)]
        duration: f64,
        /// Do not hold and resume the call (for peers that take no re-INVITE).
        #[arg(long)]
        no_hold: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Register with the registrar at URI (answering its digest challenge).
    Register {
        /// The registrar, as sip:host or sip:host:port.
        uri: String,
        /// The registration interval asked for, in seconds.
        #[arg(long, value_name = "S", default_value_t = 3600)]
        expires: u32,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Send OPTIONS to URI and print the answer.
    Options {
        /// Where to, as sip:user@host or sip:user@host:port.
        uri: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Subscribe to an event package of URI (RFC 6665), print each NOTIFY, unsubscribe
    /// after the duration.
    Subscribe {
        /// The resource, as sip:user@host or sip:user@host:port.
        uri: String,
        /// The event package.
        #[arg(long, default_value = "presence")]
        event: String,
        /// The subscription interval asked for, in seconds.
        #[arg(long, value_name = "S", default_value_t = 3600)]
        expires: u32,
        /// How long to stay subscribed before unsubscribing, in seconds.
        #[arg(long, value_name = "S", default_value_t = 1.0)]
        duration: f64,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Send TEXT to URI in a MESSAGE (RFC 3428).
    Message {
        /// Where to, as sip:user@host or sip:user@host:port.
        uri: String,
        /// The text.
        text: String,
        #[command(flatten)]
        common: CommonArgs,
    },
}

/// What `call`, `register`, `subscribe`, `options` and `message` share.
#[derive(Debug, clap::Args)]
struct CommonArgs {
    /// The transport: udp, tcp, tls, ws or wss (default: the URI's, else udp).
    #[arg(long)]
    transport: Option<uac::Transport>,
    /// The local address to send from (default: the one routed to the peer, any port).
    #[arg(long, value_name = "ADDR:PORT")]
    local: Option<std::net::SocketAddr>,
    /// The user name, for From and for digest credentials.
    #[arg(long)]
    user: Option<String>,
    /// The password for digest credentials.
    #[arg(long)]
    password: Option<String>,
    /// Send through this outbound proxy (a loose route).
    #[arg(long, value_name = "URI")]
    proxy: Option<String>,
    /// Print every message sent and received in full.
    #[arg(long)]
    trace_sip: bool,
    /// Keep the transports open this long after the work is done, in seconds (for a
    /// peer that counts a connection closed early as a failure, as SIPp over TCP does).
    #[arg(long, value_name = "S", default_value_t = 0.0)]
    linger: f64,
    /// Trust the TLS servers this CA certificate (PEM) vouches for, instead of the
    /// Mozilla roots.
    #[arg(long, value_name = "PEM")]
    ca: Option<PathBuf>,
}

impl From<CommonArgs> for uac::Common {
    fn from(a: CommonArgs) -> Self {
        Self {
            transport: a.transport,
            local: a.local,
            user: a.user,
            password: a.password,
            proxy: a.proxy,
            trace_sip: a.trace_sip,
            linger: Duration::try_from_secs_f64(a.linger).unwrap_or_default(),
            ca: a.ca,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match cli.command {
        Command::Demo => demo::run(),
        Command::Parse { json, files } => parse::run(&files, json),
        Command::Answer { listen, cert, key, ring, reject, max_transactions, serve_event } => {
            let cert = cert.zip(key);
            let ring = ring.map(Duration::from_millis);
            answer::run(answer::Options { listen, cert, ring, reject, max_transactions, serve_events: serve_event })
        }
        Command::Call { uri, duration, no_hold, common } => {
            let duration = Duration::try_from_secs_f64(duration).unwrap_or(Duration::from_secs(1));
            uac::run(&uri, common.into(), uac::Task::Call { duration, hold: !no_hold })
        }
        Command::Register { uri, expires, common } => uac::run(&uri, common.into(), uac::Task::Register { expires }),
        Command::Subscribe { uri, event, expires, duration, common } => {
            let duration = Duration::try_from_secs_f64(duration).unwrap_or(Duration::from_secs(1));
            uac::run(&uri, common.into(), uac::Task::Subscribe { event, expires, duration })
        }
        Command::Options { uri, common } => uac::run(&uri, common.into(), uac::Task::Options),
        Command::Message { uri, text, common } => uac::run(&uri, common.into(), uac::Task::Message { text }),
    }
}
