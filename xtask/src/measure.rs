//! `cargo xtask interop --measure`: SIPp's `uac` scenario over UDP against `sipkit answer`
//! and against SIPp's own `uas`, side by side, at rising call rates: the calls each
//! completed and failed, and the CPU seconds the UAS process used per 1000 calls (the
//! scheduler's run time of its threads, from `/proc/PID/task/TID/schedstat`). Each side
//! stops rising at its first rate with a failure; the last line names the highest rate
//! each sustained with none.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use crate::interop::{Answering, Load, free_port, run_sipp};

/// The UAS under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Uas {
    Sipkit,
    Sipp,
}

impl Uas {
    fn name(self) -> &'static str {
        match self {
            Self::Sipkit => "sipkit answer",
            Self::Sipp => "sipp uas",
        }
    }
}

/// `sipkit answer`'s transaction cap per call/s of load: a call keeps two transactions for
/// 64·T1 = 32 s over UDP (64 per call/s), with room to spare.
const TRANSACTIONS_PER_CALL_RATE: u64 = 80;

/// One UAS run at one rate.
#[derive(Debug, Clone, Copy)]
struct Step {
    successful: u64,
    failed: u64,
    /// CPU seconds of the UAS process over the run, and the user part of them.
    cpu: Cpu,
}

/// CPU a process used: the total, as the scheduler accounts it to the nanosecond, and its
/// user part, from the clock-tick samples of `/proc/PID/stat` (which split it into user
/// and system time, but only as often as the tick; a 10 s run of a UAS is only some tens
/// of ticks, too few for the total).
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    total: f64,
    user: f64,
}

impl std::ops::Sub for Cpu {
    type Output = Self;

    fn sub(self, earlier: Self) -> Self {
        Self { total: self.total - earlier.total, user: self.user - earlier.user }
    }
}

/// The clock ticks per second `/proc/PID/stat` counts in.
fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// The CPU process `pid` has used so far: the total from the run time the scheduler
/// keeps for each of its threads (`/proc/PID/task/TID/schedstat`, in nanoseconds), the
/// user part from `/proc/PID/stat` (its user share of the tick-sampled times, applied to
/// the total). Without schedstat (a kernel built without it), the tick-sampled times.
fn cpu_used(pid: u32, ticks: f64) -> Result<Cpu, String> {
    let (user, system) = cpu_seconds(pid, ticks)?;
    let Some(total) = run_time(pid) else { return Ok(Cpu { total: user + system, user }) };
    let user_share = if user + system > 0.0 { user / (user + system) } else { 0.0 };
    Ok(Cpu { total, user: total * user_share })
}

/// The seconds the threads of process `pid` alive now have run, from schedstat (a thread
/// that ended is not counted: both UASes keep theirs for the whole run). `None` only when
/// the kernel keeps no schedstat; a thread that ends while it is read is passed over, so
/// one reading never falls back to the tick count while another did not.
fn run_time(pid: u32) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut nanoseconds = 0u64;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else { continue };
        nanoseconds += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(nanoseconds as f64 / 1e9)
}

/// The user and system CPU seconds process `pid` has used so far.
fn cpu_seconds(pid: u32, ticks: f64) -> Result<(f64, f64), String> {
    let stat =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| format!("reading /proc/{pid}/stat: {e}"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).ok_or("an odd /proc stat line")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the line (utime, stime) are the 12th and 13th after the name.
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).ok_or("no CPU times in /proc stat");
    Ok((field(11)? / ticks, field(12)? / ticks))
}

/// A running UAS process, killed when dropped.
enum Running {
    Sipkit(Answering),
    Sipp(Child),
}

impl Running {
    fn start(uas: Uas, sipkit: &Path, port: u16, rate: u32) -> Result<Self, String> {
        match uas {
            Uas::Sipkit => {
                // Room for every transaction the run keeps: two per call for 32 s (Timers
                // J and L over UDP), more than the default cap at high rates.
                let most = (u64::from(rate) * TRANSACTIONS_PER_CALL_RATE).to_string();
                Answering::start_with(sipkit, port, &["--max-transactions", &most]).map(Self::Sipkit)
            }
            Uas::Sipp => {
                let child = Command::new("sipp")
                    .args(["-sn", "uas", "-i", "127.0.0.1", "-p", &port.to_string(), "-nostdin"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("running sipp (install Debian's sip-tester): {e}"))?;
                thread::sleep(Duration::from_millis(300));
                Ok(Self::Sipp(child))
            }
        }
    }

    fn pid(&self) -> u32 {
        match self {
            Self::Sipkit(a) => a.pid(),
            Self::Sipp(c) => c.id(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Self::Sipp(child) = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn step(uas: Uas, sipkit: &Path, load: Load, ticks: f64) -> Result<Step, String> {
    let port = free_port()?;
    let running = Running::start(uas, sipkit, port, load.rate)?;
    let before = cpu_used(running.pid(), ticks)?;
    // SIPp exits with failure when calls failed: the counts say how many.
    let (counts, _, _) = run_sipp(["-sn", "uac"], port, "u1", load)?;
    let after = cpu_used(running.pid(), ticks)?;
    Ok(Step { successful: counts.successful, failed: counts.failed, cpu: after - before })
}

/// The median of `values` (the lower middle one of an even count); `None` for none.
fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len().saturating_sub(1) / 2).copied()
}

/// Runs the ladder of rates (each for `seconds` of calls, `repeat` times over, the two
/// UASes taking turns so a slow spell of the machine falls on both) up to `max_rate`;
/// prints a row per rate, with the median CPU per 1000 calls and its range over the runs,
/// and the highest rate each UAS sustained without a failure in any run.
pub(crate) fn run(sipkit: &Path, seconds: u32, max_rate: u32, repeat: u32) -> bool {
    let ticks = ticks_per_second();
    let uases = [Uas::Sipkit, Uas::Sipp];
    let mut best = [None::<u32>; 2];
    let mut failing = [false; 2];
    println!(
        "SIPp uac over UDP on 127.0.0.1, {seconds} s of calls per rate, {repeat} run(s) each; \
         CPU of the UAS process per 1000 calls (median, user part, range)"
    );
    println!(
        "{:>8}  {:>8}  {:>44}  {:>44}",
        "rate/s", "calls", "sipkit answer: ok/failed, cpu", "sipp uas: ok/failed, cpu"
    );
    let mut rate = 500;
    while rate <= max_rate && failing.iter().any(|f| !f) {
        let load = Load { calls: rate * seconds, rate };
        // Per UAS: (calls completed, calls failed, total and user CPU per 1000 calls) of each run.
        let mut runs: [Vec<(u64, u64, f64, f64)>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..repeat {
            for (i, uas) in uases.iter().enumerate() {
                if failing[i] {
                    continue;
                }
                match step(*uas, sipkit, load, ticks) {
                    Ok(s) => {
                        let per_1000 = |seconds: f64| seconds * 1000.0 / s.successful.max(1) as f64;
                        runs[i].push((s.successful, s.failed, per_1000(s.cpu.total), per_1000(s.cpu.user)));
                    }
                    Err(e) => {
                        println!("{}: {e}", uas.name());
                        return false;
                    }
                }
            }
        }
        let mut cells = Vec::new();
        for i in 0..uases.len() {
            let r = &runs[i];
            if r.is_empty() {
                cells.push("-".to_owned());
                continue;
            }
            // The worst run's counts; the CPU of the runs that completed calls (one with
            // none, a SIPp that hung and was killed, has no CPU per call).
            let ok = r.iter().map(|x| x.0).min().unwrap_or(0);
            let failed = r.iter().map(|x| x.1).max().unwrap_or(0);
            let counted: Vec<_> = r.iter().filter(|x| x.0 > 0).collect();
            let mut totals: Vec<f64> = counted.iter().map(|x| x.2).collect();
            let mut users: Vec<f64> = counted.iter().map(|x| x.3).collect();
            let (low, high) = totals.iter().fold((f64::MAX, f64::MIN), |(l, h), t| (l.min(*t), h.max(*t)));
            let cpu = match (median(&mut totals), median(&mut users)) {
                (Some(total), Some(user)) if counted.len() > 1 => {
                    format!("{total:.3} s ({user:.3} user, {low:.3}-{high:.3})")
                }
                (Some(total), Some(user)) => format!("{total:.3} s ({user:.3} user)"),
                _ => "no calls completed".to_owned(),
            };
            let uncounted = r.len() - counted.len();
            let note = if uncounted > 0 { format!(", {uncounted} run(s) without calls") } else { String::new() };
            cells.push(format!("{ok}/{failed}, {cpu}{note}"));
            if r.iter().all(|x| x.1 == 0 && x.0 == u64::from(load.calls)) {
                best[i] = Some(rate);
            } else {
                failing[i] = true;
            }
        }
        println!("{rate:>8}  {:>8}  {:>44}  {:>44}", load.calls, cells[0], cells[1]);
        rate *= 2;
    }
    let say = |b: Option<u32>| b.map_or("none".to_owned(), |r| format!("{r}/s"));
    println!(
        "highest rate with 0 failures: sipkit answer {}, sipp uas {} (rates tried: 500/s doubling up to {max_rate}/s)",
        say(best[0]),
        say(best[1])
    );
    true
}

#[cfg(test)]
mod tests {
    use super::{cpu_used, median, run_time, ticks_per_second};

    #[test]
    fn the_cpu_of_a_process_is_its_threads_run_time() {
        let pid = std::process::id();
        let before = run_time(pid).expect("schedstat on this kernel");
        let spin = std::time::Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < std::time::Duration::from_millis(50) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        // In seconds, counting the spin (less than its 50 ms only when other threads of a
        // busy machine took the core for a while).
        let spent = run_time(pid).unwrap() - before;
        assert!((0.005..5.0).contains(&spent), "{spent}");
        let cpu = cpu_used(pid, ticks_per_second()).unwrap();
        assert!(cpu.total >= before + spent && cpu.user <= cpu.total, "{cpu:?}");
    }

    #[test]
    fn the_median_is_the_middle_run() {
        assert_eq!(median(&mut [0.3, 0.1, 0.2]), Some(0.2));
        assert_eq!(median(&mut [0.4, 0.1, 0.3, 0.2]), Some(0.2), "the lower middle of an even count");
        assert_eq!(median(&mut [0.5]), Some(0.5));
        assert_eq!(median(&mut []), None);
    }
}
