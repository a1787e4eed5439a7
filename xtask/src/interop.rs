//! `cargo xtask interop`: sipkit against SIPp (Debian's `sip-tester`) on loopback.
//!
//! - SIPp's built-in `uac` scenario against `sipkit answer`, over UDP and over TCP:
//!   every call must succeed, and `sipkit answer` must report each one answered and ended
//!   by the caller's BYE.
//! - `sipkit call` against SIPp's built-in `uas` scenario, over UDP and over TCP: the
//!   call is answered and hung up (without hold: that scenario takes no re-INVITE), both
//!   sides count it a success.
//! - `sipkit register` against `scenarios/register-digest.xml`, a registrar that
//!   challenges with 401 and checks the credentials (SIPp's `verifyauth`): accepted with
//!   the right password, refused (and failed on both sides) with a wrong one.
//! - `sipkit subscribe` against `scenarios/notifier.xml`, a presence notifier; and the
//!   other way round, `scenarios/subscriber.xml`, a presence watcher, against
//!   `sipkit answer --serve-event presence`.
//! - `sipkit call` against `scenarios/transferor.xml`, a UAS that answers and then
//!   transfers the caller with a REFER: accepted with 202, its NOTIFYs (100, then the
//!   603 that declines it: `sipkit call` places one call), then the caller's BYE.
//!
//! Everything runs on 127.0.0.1, on ports the system hands out, each run bounded in time
//! and in calls.

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How a run is shaped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    /// Calls SIPp places.
    pub(crate) calls: u32,
    /// Calls per second.
    pub(crate) rate: u32,
}

/// How long `sipkit answer` may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// What a SIPp run counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) successful: u64,
    pub(crate) failed: u64,
}

/// A port free on 127.0.0.1 for both UDP and TCP (as the system hands it out).
pub(crate) fn free_port() -> Result<u16, String> {
    for _ in 0..20 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("binding a UDP socket: {e}"))?;
        let port = udp.local_addr().map_err(|e| e.to_string())?.port();
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return Ok(port);
        }
    }
    Err("no port free for both UDP and TCP on 127.0.0.1".into())
}

/// A running `sipkit answer`, stopped when dropped; its call lines collected.
pub(crate) struct Answering {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Answering {
    pub(crate) fn start(sipkit: &Path, port: u16) -> Result<Self, String> {
        Self::start_with(sipkit, port, &[])
    }

    /// [`start`](Self::start) with more arguments for `sipkit answer`.
    pub(crate) fn start_with(sipkit: &Path, port: u16, more: &[&str]) -> Result<Self, String> {
        let mut child = Command::new(sipkit)
            .args([
                "answer",
                "--listen",
                &format!("udp:127.0.0.1:{port}"),
                "--listen",
                &format!("tcp:127.0.0.1:{port}"),
            ])
            .args(more)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", sipkit.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout from sipkit answer")?;
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let answering = Self { child, lines };
        match answering.lines.recv_timeout(START_TIMEOUT) {
            Ok(line) if line.starts_with("sipkit answer: listening on") => Ok(answering),
            Ok(line) => Err(format!("sipkit answer printed {line:?} instead of listening")),
            Err(_) => Err("sipkit answer did not start listening".into()),
        }
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The call lines printed so far.
    fn calls(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The cumulative value of SIPp's final statistics row `name`.
fn counter(screen: &str, name: &str) -> Option<u64> {
    let row = screen.lines().rev().find(|l| l.trim_start().starts_with(name))?;
    row.rsplit('|').next()?.trim().parse().ok()
}

/// Runs SIPp with `scenario` (`-sn NAME` for a built-in one, `-sf FILE` for the project's)
/// against 127.0.0.1:`port` over `transport` (`u1`, `t1`): what it counted, whether it
/// exited with success, and its screen and errors.
pub(crate) fn run_sipp(
    scenario: [&str; 2],
    port: u16,
    transport: &str,
    load: Load,
) -> Result<(Counts, bool, String), String> {
    let local = free_port()?;
    // Long enough for every call at the rate, plus the tail of the last ones.
    let limit = load.calls / load.rate.max(1) + 30;
    let mut child = Command::new("sipp")
        .args(scenario)
        .args([&format!("127.0.0.1:{port}"), "-i", "127.0.0.1", "-p", &local.to_string()])
        .args(["-t", transport, "-m", &load.calls.to_string(), "-r", &load.rate.to_string()])
        .args(["-timeout", &format!("{limit}s"), "-timeout_error", "-nostdin"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running sipp (install Debian's sip-tester): {e}"))?;
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    // SIPp's own -timeout runs in its main loop; one seen hung in a futex at 2000 calls/s
    // never ended, so the run also has a bound of its own.
    let bound = Duration::from_secs(u64::from(limit) + SIPP_GRACE_SECONDS);
    let (status, hung) = wait_bounded(&mut child, bound)?;
    let screen = stdout.join().unwrap_or_default();
    let screen = String::from_utf8_lossy(&screen);
    let tail: Vec<&str> = screen.lines().rev().take(40).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    let mut text = format!("{}\n{}", tail.join("\n"), String::from_utf8_lossy(&stderr.join().unwrap_or_default()));
    if hung {
        text.push_str(&format!("\nsipp did not exit within {} s: killed", bound.as_secs()));
    }
    Ok((counts_of(&screen), status.is_some_and(|s| s.success()), text))
}

/// Reads `pipe` to its end on a thread of its own (so a full pipe never blocks the child).
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut text);
        }
        text
    })
}

/// The -timeout of a one-call SIPp server.
const SERVER_TIMEOUT_SECONDS: u64 = 30;

/// How long past its own -timeout a SIPp run may take before it is killed.
const SIPP_GRACE_SECONDS: u64 = 30;

/// Waits for `child` at most `bound`; past it, kills it. The exit status (`None` when
/// killed), and whether it had to be killed.
fn wait_bounded(child: &mut Child, bound: Duration) -> Result<(Option<std::process::ExitStatus>, bool), String> {
    let deadline = std::time::Instant::now() + bound;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("waiting for sipp: {e}"))? {
            return Ok((Some(status), false));
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok((None, true));
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// [`run_sipp`], failing unless SIPp exited with success.
pub(crate) fn sipp(scenario: [&str; 2], port: u16, transport: &str, load: Load) -> Result<Counts, String> {
    let (counts, success, text) = run_sipp(scenario, port, transport, load)?;
    if !success {
        return Err(format!(
            "sipp exited with failure ({} successful, {} failed)\n{text}",
            counts.successful, counts.failed
        ));
    }
    Ok(counts)
}

/// The counts of SIPp's final screen, on its standard output.
fn counts_of(screen: &str) -> Counts {
    Counts {
        successful: counter(screen, "Successful call").unwrap_or(0),
        failed: counter(screen, "Failed call").unwrap_or(0),
    }
}

/// A SIPp server (`-sn uas`, or a scenario file) for one call on 127.0.0.1, over
/// `transport` (`u1`, `t1`); ready once it listens.
struct SippServer {
    child: Child,
    port: u16,
}

impl SippServer {
    fn start(scenario: &[&str], transport: &str) -> Result<Self, String> {
        let port = free_port()?;
        let child = Command::new("sipp")
            .args(scenario)
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-t", transport, "-m", "1"])
            .args(["-timeout", &format!("{SERVER_TIMEOUT_SECONDS}s"), "-timeout_error", "-nostdin"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("running sipp (install Debian's sip-tester): {e}"))?;
        let server = Self { child, port };
        // Over TCP the client needs the listener up; over UDP its retransmissions cover
        // a slow start.
        if transport == "t1" {
            let ready = (0..100).any(|_| {
                let up = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok();
                if !up {
                    thread::sleep(Duration::from_millis(50));
                }
                up
            });
            if !ready {
                return Err("sipp did not start listening".into());
            }
        } else {
            thread::sleep(Duration::from_millis(200));
        }
        Ok(server)
    }

    /// Waits for SIPp to end (it stops after its one call, or at its timeout; killed if
    /// it is still there past that, as [`run_sipp`] does).
    fn finish(mut self) -> Result<(Counts, String), String> {
        let (stdout, _stderr) = (drain(self.child.stdout.take()), drain(self.child.stderr.take()));
        let bound = Duration::from_secs(SERVER_TIMEOUT_SECONDS + SIPP_GRACE_SECONDS);
        let (_, hung) = wait_bounded(&mut self.child, bound)?;
        let mut screen = String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned();
        if hung {
            screen.push_str(&format!("\nsipp did not exit within {} s: killed", bound.as_secs()));
        }
        Ok((counts_of(&screen), screen))
    }
}

/// Runs `sipkit ARGS`; its exit status and standard output.
fn sipkit_client(sipkit: &Path, args: &[String]) -> Result<(bool, String), String> {
    let output = Command::new(sipkit)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {}: {e}", sipkit.display()))?;
    Ok((output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned()))
}

/// One `sipkit` client command against one SIPp server: whether each side saw the
/// outcome `expect_success` says (sipkit's exit status; SIPp's successful and failed
/// counts).
fn client_against_sipp(
    sipkit: &Path,
    scenario: &[&str],
    transport: &str,
    command: impl FnOnce(u16) -> Vec<String>,
    expect_success: bool,
) -> Result<String, String> {
    let server = SippServer::start(scenario, transport)?;
    let args = command(server.port);
    let (exited_ok, stdout) = sipkit_client(sipkit, &args)?;
    let (counts, screen) = server.finish()?;
    let sipp_ok = counts == Counts { successful: 1, failed: 0 };
    let sipp_failed = counts == Counts { successful: 0, failed: 1 };
    let last = stdout.lines().last().unwrap_or("").to_owned();
    let as_expected = if expect_success { exited_ok && sipp_ok } else { !exited_ok && sipp_failed };
    if !as_expected {
        let tail: Vec<&str> = screen.lines().rev().take(25).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(format!(
            "sipkit {} exited {}; sipp counted {} successful, {} failed\n{stdout}\n{}",
            args.join(" "),
            if exited_ok { "0" } else { "non-zero" },
            counts.successful,
            counts.failed,
            tail.join("\n")
        ));
    }
    Ok(last)
}

/// SIPp `uac` against `sipkit answer` over `transport`: all calls must succeed on both
/// sides.
fn uac_against_answer(sipkit: &Path, transport: &str, load: Load) -> Result<Counts, String> {
    let port = free_port()?;
    let answering = Answering::start(sipkit, port)?;
    let counts = sipp(["-sn", "uac"], port, transport, load)?;
    // The last BYEs' lines may trail SIPp's exit by a moment.
    let mut lines = answering.calls();
    for _ in 0..50 {
        if lines.len() >= load.calls as usize {
            break;
        }
        thread::sleep(Duration::from_millis(100));
        lines.extend(answering.calls());
    }
    let good = lines.iter().filter(|l| l.ends_with("answered, ended: ByeReceived")).count();
    if counts.successful != u64::from(load.calls) || counts.failed != 0 || good != load.calls as usize {
        let odd: Vec<&String> = lines.iter().filter(|l| !l.ends_with("answered, ended: ByeReceived")).take(5).collect();
        return Err(format!(
            "{} calls: sipp counted {} successful and {} failed; sipkit answer {good} answered and ended by BYE (others: {odd:?})",
            load.calls, counts.successful, counts.failed
        ));
    }
    Ok(counts)
}

/// SIPp as a presence watcher (`scenarios/subscriber.xml`) against `sipkit answer
/// --serve-event presence`: the subscription granted, its first NOTIFY, the unsubscribe in
/// the dialog and the last NOTIFY, each checked by the scenario; SIPp must count its one
/// call a success.
fn subscriber_against_answer(sipkit: &Path, root: &Path) -> Result<(), String> {
    let port = free_port()?;
    let _answering = Answering::start_with(sipkit, port, &["--serve-event", "presence"])?;
    let scenario = root.join("xtask/scenarios/subscriber.xml");
    let counts = sipp(["-sf", &scenario.to_string_lossy()], port, "u1", Load { calls: 1, rate: 1 })?;
    if counts != (Counts { successful: 1, failed: 0 }) {
        return Err(format!("sipp counted {} successful and {} failed", counts.successful, counts.failed));
    }
    Ok(())
}

/// One `sipkit` client command against a SIPp server.
struct ClientCheck<'a> {
    /// What it checks.
    name: &'a str,
    /// SIPp's scenario arguments.
    scenario: [&'a str; 2],
    /// SIPp's transport (`u1`, `t1`).
    transport: &'a str,
    /// sipkit's arguments before the URI.
    args: &'a [&'a str],
    /// The URI's user part with its `@`, or empty.
    user: &'a str,
    /// Whether both sides must count a success (otherwise a failure).
    succeeds: bool,
}

/// Builds the release `sipkit` binary and returns its path.
pub(crate) fn build_sipkit(root: &Path) -> Result<PathBuf, String> {
    let status = Command::new("cargo")
        .current_dir(root)
        .args(["build", "--release", "-p", "sipkit"])
        .status()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building sipkit: {status}"));
    }
    Ok(root.join("target/release/sipkit"))
}

/// Runs every interop check; a line per check, and whether all passed.
pub(crate) fn run(root: &Path, load: Load) -> bool {
    let sipkit = match build_sipkit(root) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return false;
        }
    };
    let mut ok = true;
    for (name, transport) in [("UDP", "u1"), ("TCP", "t1")] {
        match uac_against_answer(&sipkit, transport, load) {
            Ok(c) => println!(
                "ok   sipp uac -> sipkit answer over {name}: {} calls at {}/s, {} successful, {} failed",
                load.calls, load.rate, c.successful, c.failed
            ),
            Err(e) => {
                ok = false;
                println!("FAIL sipp uac -> sipkit answer over {name}: {e}");
            }
        }
    }
    let watcher = "sipp watcher -> sipkit answer serving presence (subscribe, NOTIFY, unsubscribe, NOTIFY)";
    match subscriber_against_answer(&sipkit, root) {
        Ok(()) => println!("ok   {watcher}: 1 successful, 0 failed"),
        Err(e) => {
            ok = false;
            println!("FAIL {watcher}: {e}");
        }
    }
    let scenario = root.join("xtask/scenarios/register-digest.xml");
    let scenario = scenario.to_string_lossy().into_owned();
    let calls = ["call", "--no-hold", "--duration", "0.2"];
    // SIPp fails a call whose connection closes in its closing pause (4 s).
    let calls_tcp = ["call", "--no-hold", "--duration", "0.2", "--transport", "tcp", "--linger", "4.5"];
    let notifier = root.join("xtask/scenarios/notifier.xml");
    let notifier = notifier.to_string_lossy().into_owned();
    let subscribe = ["subscribe", "--event", "presence", "--expires", "300", "--duration", "0.5"];
    let transferor = root.join("xtask/scenarios/transferor.xml");
    let transferor = transferor.to_string_lossy().into_owned();
    let transferred = ["call", "--no-hold", "--duration", "0.5"];
    let register = ["register", "--user", "alice", "--password", "wonderland"];
    let wrong = ["register", "--user", "alice", "--password", "looking-glass"];
    let check = |name, scenario, transport, args, user, succeeds| ClientCheck {
        name,
        scenario,
        transport,
        args,
        user,
        succeeds,
    };
    let checks = [
        check("sipkit call -> sipp uas over UDP", ["-sn", "uas"], "u1", &calls[..], "service@", true),
        check("sipkit call -> sipp uas over TCP", ["-sn", "uas"], "t1", &calls_tcp[..], "service@", true),
        check("sipkit register -> sipp 401 registrar", ["-sf", &scenario], "u1", &register[..], "", true),
        check(
            "sipkit register with a wrong password -> sipp 401 registrar (refused)",
            ["-sf", &scenario],
            "u1",
            &wrong[..],
            "",
            false,
        ),
        check("sipkit subscribe -> sipp presence notifier", ["-sf", &notifier], "u1", &subscribe[..], "bob@", true),
        check(
            "sipkit call -> sipp transferor (REFER accepted, then declined)",
            ["-sf", &transferor],
            "u1",
            &transferred[..],
            "service@",
            true,
        ),
    ];
    for ClientCheck { name, scenario, transport, args: words, user, succeeds: expect_success } in checks {
        let command = |port: u16| {
            let mut args: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
            args.push(format!("sip:{user}127.0.0.1:{port}"));
            args
        };
        match client_against_sipp(&sipkit, &scenario, transport, command, expect_success) {
            Ok(last) => println!("ok   {name}: {last}"),
            Err(e) => {
                ok = false;
                println!("FAIL {name}: {e}");
            }
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_past_its_bound_is_killed_and_one_within_it_is_not() {
        let mut quick = Command::new("true").spawn().unwrap();
        let (status, hung) = wait_bounded(&mut quick, Duration::from_secs(10)).unwrap();
        assert!(status.is_some_and(|s| s.success()) && !hung);
        let mut stuck = Command::new("sleep").arg("30").spawn().unwrap();
        let started = std::time::Instant::now();
        let (status, hung) = wait_bounded(&mut stuck, Duration::from_millis(300)).unwrap();
        assert!(status.is_none() && hung);
        assert!(started.elapsed() < Duration::from_secs(10), "killed at the bound, not after the sleep");
    }
}
