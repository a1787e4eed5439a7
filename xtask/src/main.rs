//! `cargo xtask`: sipkit's project tasks.
//!
//! - `cargo xtask conformance [--corpus DIR]... [--uas]` runs the torture-test corpora
//!   (`../shared/conformance/rfc4475` and `rfc5118` by default) through `Message::parse` and
//!   `Message::validate` and compares each verdict with the manifest; with `--uas`, it
//!   sends them over UDP to a live `sipkit answer` and compares its responses too.
//! - `cargo xtask fuzz [--seconds N] [TARGET...]` runs the cargo-fuzz targets with their seed
//!   corpora (10 s each by default: a smoke run).
//! - `cargo xtask bench` runs the criterion benches and the allocation count.
//! - `cargo xtask interop [--calls N] [--rate R]` runs sipkit against SIPp on loopback;
//!   `--measure [--seconds S] [--max-rate R] [--repeat N]` loads `sipkit answer` and SIPp's
//!   own UAS side by side at rising rates and reports failures and CPU per 1000 calls (the
//!   median of N runs).

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench_report;
mod conformance;
mod interop;
mod measure;
mod uas;

fn usage() -> ExitCode {
    eprintln!(
        "usage:\n  cargo xtask conformance [--corpus DIR]... [--uas]\n  cargo xtask fuzz [--seconds N] [TARGET]...\n  cargo xtask bench\n  cargo xtask interop [--calls N] [--rate R]\n  cargo xtask interop --measure [--seconds S] [--max-rate R] [--repeat N]"
    );
    ExitCode::from(2)
}

/// The workspace root (the parent of this crate's directory).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        return usage();
    };
    match task.as_str() {
        "conformance" => conformance_task(rest),
        "fuzz" => fuzz_task(rest),
        "bench" => bench_task(rest),
        "interop" => interop_task(rest),
        _ => usage(),
    }
}

fn conformance_task(args: &[String]) -> ExitCode {
    let mut corpora = Vec::new();
    let mut live_uas = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--uas" {
            live_uas = true;
            continue;
        }
        match (a.as_str(), it.next()) {
            ("--corpus", Some(dir)) => corpora.push(PathBuf::from(dir)),
            _ => return usage(),
        }
    }
    if corpora.is_empty() {
        let shared = workspace_root().join("../shared/conformance");
        corpora = vec![shared.join("rfc4475"), shared.join("rfc5118")];
    }
    let mut totals = conformance::Totals::default();
    for dir in &corpora {
        match conformance::run(dir) {
            Ok(t) => totals.add(t),
            Err(e) => {
                eprintln!("{}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        }
    }
    if live_uas {
        let sipkit = match interop::build_sipkit(&workspace_root()) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        for dir in &corpora {
            match uas::run(&sipkit, dir) {
                Ok(t) => totals.add(t),
                Err(e) => {
                    eprintln!("{}: {e}", dir.display());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    println!("{} passed, {} failed", totals.passed, totals.failed);
    if totals.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn interop_task(args: &[String]) -> ExitCode {
    let mut load = interop::Load { calls: 1000, rate: 100 };
    let (mut measuring, mut seconds, mut max_rate, mut repeat) = (false, 5, 16_000, 1);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--measure" {
            measuring = true;
            continue;
        }
        let value = it.next().and_then(|v| v.parse().ok()).filter(|v| *v > 0);
        match (a.as_str(), value) {
            ("--calls", Some(n)) => load.calls = n,
            ("--rate", Some(r)) => load.rate = r,
            ("--seconds", Some(s)) => seconds = s,
            ("--max-rate", Some(r)) => max_rate = r,
            ("--repeat", Some(n)) => repeat = n,
            _ => return usage(),
        }
    }
    let root = workspace_root();
    let passed = if measuring {
        match interop::build_sipkit(&root) {
            Ok(sipkit) => measure::run(&sipkit, seconds, max_rate, repeat),
            Err(e) => {
                eprintln!("{e}");
                false
            }
        }
    } else {
        interop::run(&root, load)
    };
    if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// The fuzz targets, each with its seed corpus under `fuzz/seeds/<target>`.
const FUZZ_TARGETS: &[&str] =
    &["parse_message", "parse_sdp", "stream_framing", "transaction_layer", "dialog", "digest", "user_agent"];

fn fuzz_task(args: &[String]) -> ExitCode {
    let mut seconds = 10u64;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--seconds" {
            match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => seconds = s,
                None => return usage(),
            }
        } else {
            targets.push(a.clone());
        }
    }
    if targets.is_empty() {
        targets = FUZZ_TARGETS.iter().map(|s| (*s).to_string()).collect();
    }
    let root = workspace_root();
    for target in &targets {
        let corpus = root.join("fuzz/corpus").join(target);
        if let Err(e) = std::fs::create_dir_all(&corpus) {
            eprintln!("creating {}: {e}", corpus.display());
            return ExitCode::FAILURE;
        }
        let seeds = root.join("fuzz/seeds").join(target);
        println!("fuzzing {target} for {seconds} s");
        let status = Command::new("cargo")
            .current_dir(&root)
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", target])
            .arg(&corpus)
            .arg(&seeds)
            .args(["--", &format!("-max_total_time={seconds}")])
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("fuzz target {target} failed: {s}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("running cargo fuzz (install it with `cargo install cargo-fuzz`): {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn bench_task(args: &[String]) -> ExitCode {
    let root = workspace_root();
    let run = |cmd: &mut Command| cmd.current_dir(&root).status().is_ok_and(|s| s.success());
    let bench = |name: &str| {
        run(Command::new("cargo").args(["bench", "-p", "sipkit-benches", "--bench", name, "--"]).args(args))
    };
    let ok = bench("message")
        && bench("sdp")
        && bench("transport")
        && bench("transaction")
        && bench("call")
        && run(Command::new("cargo").args([
            "run",
            "--quiet",
            "--release",
            "-p",
            "sipkit-benches",
            "--bin",
            "alloc-count",
        ]));
    if !ok {
        return ExitCode::FAILURE;
    }
    let dir = root.join("target/criterion");
    let tables = bench_report::message_table(&dir).and_then(|m| {
        Ok((
            m,
            bench_report::sdp_table(&dir)?,
            bench_report::transport_table(&dir)?,
            bench_report::transaction_table(&dir)?,
            bench_report::call_table(&dir)?,
        ))
    });
    match tables {
        Ok((messages, sdp, transport, transactions, calls)) => {
            println!("\n{messages}\n{sdp}\n{transport}\n{transactions}\n{calls}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("reading criterion results: {e}");
            ExitCode::FAILURE
        }
    }
}
