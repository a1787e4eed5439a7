//! `sipkit`: the sipkit command-line tool.
//!
//! `sipkit parse [--json] FILE...` parses each file as one received datagram with both
//! depths of checking (`Message::parse` then `Message::validate`) and prints what it found.
//! `sipkit answer --listen udp:ADDR ...` runs an answering UAS.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

mod answer;
mod parse;

/// sipkit: a SIP stack and the tools around it.
#[derive(Debug, Parser)]
#[command(name = "sipkit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
        /// Where to listen: udp:ADDRESS:PORT or tcp:ADDRESS:PORT (repeatable).
        #[arg(long, required = true)]
        listen: Vec<answer::Listen>,
        /// Ring (180) for this many milliseconds before answering.
        #[arg(long, value_name = "MS")]
        ring: Option<u64>,
        /// Reject every INVITE with this status (300-699) instead of answering.
        #[arg(long, value_name = "CODE")]
        reject: Option<u16>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Parse { json, files } => parse::run(&files, json),
        Command::Answer { listen, ring, reject } => {
            answer::run(answer::Options { listen, ring: ring.map(Duration::from_millis), reject })
        }
    }
}
