//! `sipkit answer` stopped by a signal: the line of a call that ended just before is
//! still written (call lines wait up to `CALL_LOG_DELAY` for a batch), and it exits 0.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_signal_stops_the_answerer_after_it_writes_the_pending_call_lines() {
    let sipkit = env!("CARGO_BIN_EXE_sipkit");
    for signal in ["-TERM", "-INT"] {
        let mut child = Command::new(sipkit)
            .args(["answer", "--listen", "udp:127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let addr = first.trim().strip_prefix("sipkit answer: listening on udp:").unwrap_or_else(|| panic!("{first}"));
        let call = Command::new(sipkit).args(["call", "--duration", "0.05"]).arg(format!("sip:bob@{addr}")).output();
        // At once: the call's line is still waiting for its batch.
        let killed = Command::new("kill").arg(signal).arg(child.id().to_string()).status().unwrap();
        assert!(killed.success());
        // Bounded: an answerer that does not stop is killed and fails the test.
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{signal}: sipkit answer did not stop");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        let call = call.unwrap();
        assert!(call.status.success(), "{}", String::from_utf8_lossy(&call.stdout));
        assert!(status.success(), "{signal}: {status:?}");
        assert!(rest.contains("answered, ended: ByeReceived"), "{signal}: the call's line: {rest:?}");
    }
}
