//! `sipkit call` against `sipkit answer` over TLS, WebSocket and secure WebSocket on
//! 127.0.0.1, with a CA and server certificate made here by rcgen: each call is answered,
//! held, resumed and hung up, and the answerer logs it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

struct Answering(Child);

impl Drop for Answering {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A CA, and a certificate it issued for 127.0.0.1, written as PEM files: (ca, cert, key).
fn pki(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf =
        CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()]).unwrap().signed_by(&key, &ca).unwrap();
    let paths = (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, leaf.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

#[test]
fn calls_over_tls_ws_and_wss() {
    let dir = std::env::temp_dir().join(format!("sipkit-transports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = pki(&dir);
    let sipkit = env!("CARGO_BIN_EXE_sipkit");
    let mut child = Command::new(sipkit)
        .args(["answer", "--listen", "tls:127.0.0.1:0", "--listen", "ws:127.0.0.1:0", "--listen", "wss:127.0.0.1:0"])
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let answering = Answering(child);
    let first = lines.next().unwrap().unwrap();
    let listening = first.strip_prefix("sipkit answer: listening on ").unwrap_or_else(|| panic!("{first}"));
    // "tls:127.0.0.1:P, ws:127.0.0.1:Q, wss:127.0.0.1:R"
    for listener in listening.split(", ") {
        let (transport, addr) = listener.split_once(':').unwrap();
        let output = Command::new(sipkit)
            .args(["call", "--duration", "0.1", "--transport", transport])
            .arg("--ca")
            .arg(&ca)
            .arg(format!("sip:bob@{addr}"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "a call over {transport}:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("answered, held, resumed; hung up"), "over {transport}:\n{stdout}");
        assert!(stdout.contains(&format!("INVITE sip:bob@{addr}")), "the ladder names the INVITE:\n{stdout}");
        let line = lines.next().unwrap().unwrap();
        assert!(line.ends_with("answered, ended: ByeReceived"), "the answerer's line for {transport}: {line}");
    }
    // Without the CA, the server's certificate is not trusted: the call fails.
    let tls = listening.split(", ").find(|l| l.starts_with("tls:")).unwrap();
    let output = Command::new(sipkit)
        .args(["call", "--duration", "0.1", "--transport", "tls"])
        .arg(format!("sip:bob@{}", &tls[4..]))
        .output()
        .unwrap();
    assert!(!output.status.success(), "an untrusted server is refused");
    drop(answering);
    let _ = std::fs::remove_dir_all(&dir);
}
