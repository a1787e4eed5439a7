//! Test support shared by the TLS and WebSocket tests: a CA and a server certificate
//! made by rcgen.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sip_transport::tls::TlsConfig;

/// A CA, and a server certificate it issued for localhost, 127.0.0.1 and ::1.
pub(crate) struct Pki {
    ca: CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

pub(crate) fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
    Pki {
        ca: ca.der().clone(),
        chain: vec![leaf.der().clone()],
        key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
    }
}

pub(crate) fn config(pki: &Pki, serve: bool) -> TlsConfig {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    let server = serve.then(|| {
        Arc::new(
            TlsConfig::server_with_certificate(pki.chain.clone(), PrivateKeyDer::Pkcs8(pki.key.clone_key())).unwrap(),
        )
    });
    TlsConfig { server, client: Arc::new(TlsConfig::client_with_roots(roots).unwrap()) }
}
