//! `sipkit`: the sipkit command-line tool.
//!
//! `sipkit parse [--json] FILE...` parses each file as one received datagram with both
//! depths of checking (`Message::parse` then `Message::validate`) and prints what it found.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Parse { json, files } => parse::run(&files, json),
    }
}
