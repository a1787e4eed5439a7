//! `sipkit demo` as a newcomer runs it: exit 0, the ladder of the whole call in order
//! (offer, a reliable 180 and its PRACK, the answer, hold with sendonly/recvonly, resume,
//! BYE), and the summary line.

use std::process::Command;

#[test]
fn the_demo_draws_the_whole_call_and_sums_it_up() {
    let output = Command::new(env!("CARGO_BIN_EXE_sipkit")).arg("demo").output().expect("sipkit runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "sipkit demo failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // The ladder lines, without their times and rules: what went which way.
    let ladder: Vec<String> = stdout
        .lines()
        .filter(|l| l.contains('│'))
        .map(|l| {
            let way = if l.contains('▶') { "alice -> bob" } else { "bob -> alice" };
            let label =
                l.split('│').nth(1).unwrap_or("").trim_matches(|c| c == '─' || c == '▶' || c == '◀' || c == ' ');
            format!("{way}: {label}")
        })
        .collect();
    let expected = [
        "alice -> bob: INVITE SDP sendrecv",
        "bob -> alice: 180 Ringing (INVITE)",
        "bob -> alice: 200 OK (INVITE) SDP sendrecv",
        "alice -> bob: PRACK",
        "alice -> bob: ACK",
        "alice -> bob: INVITE SDP sendonly",
        "bob -> alice: 200 OK (INVITE) SDP recvonly",
        "alice -> bob: ACK",
        "alice -> bob: INVITE SDP sendrecv",
        "bob -> alice: 200 OK (INVITE) SDP sendrecv",
        "alice -> bob: ACK",
        "alice -> bob: BYE",
        "bob -> alice: 200 OK (BYE)",
    ];
    // The PRACK's 200 may come before or after Alice's ACK: both go at once.
    let prack_ok = "bob -> alice: 200 OK (PRACK)";
    let prack_at = ladder.iter().position(|l| l == "alice -> bob: PRACK");
    let ok_at = ladder.iter().position(|l| l == prack_ok);
    assert!(matches!((prack_at, ok_at), (Some(p), Some(o)) if o > p), "the PRACK is answered:\n{stdout}");
    let ladder: Vec<String> = ladder.into_iter().filter(|l| l != prack_ok).collect();
    assert_eq!(ladder, expected, "the ladder:\n{stdout}");
    let summary = stdout.lines().last().unwrap_or("");
    assert!(
        summary.starts_with("sipkit demo: ok: call answered (PCMU), held, resumed and hung up; 14 messages in"),
        "the summary: {summary:?}"
    );
}
