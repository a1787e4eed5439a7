//! SIP over TLS (§26.2, RFC 5922): the [`StreamTransport`] with rustls on its connections.
//! Servers are verified by default (the Mozilla root store of `webpki-roots`), against the
//! target's host name when it has one ([`Target::server_name`], sent as SNI), else
//! against its IP address.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use sip_message::header::Transport as TransportName;
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector, TlsStream};

use crate::stream::{Connection, StreamLayer, StreamSettings, StreamTransport, run_byte_stream};
use crate::{IncomingSender, Target, TransportError};

/// The TLS configurations of a transport.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// The server side, with this side's certificate: `None` for a transport that only
    /// connects out (accepted connections then fail their handshake and close).
    pub server: Option<Arc<ServerConfig>>,
    /// The client side: which servers are trusted.
    pub client: Arc<ClientConfig>,
}

impl TlsConfig {
    /// A client side that trusts the Mozilla root store and verifies every server; no
    /// server side.
    pub fn client_only() -> Result<Self, rustls::Error> {
        Ok(Self { server: None, client: Arc::new(Self::client_with_roots(webpki_roots_store())?) })
    }

    /// A client configuration trusting `roots` (and verifying every server against them),
    /// on the ring provider.
    pub fn client_with_roots(roots: RootCertStore) -> Result<ClientConfig, rustls::Error> {
        Ok(ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }

    /// A server configuration presenting `chain` (the leaf first) with `key`, on the ring
    /// provider.
    pub fn server_with_certificate(
        chain: Vec<rustls::pki_types::CertificateDer<'static>>,
        key: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> Result<ServerConfig, rustls::Error> {
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)
    }
}

fn webpki_roots_store() -> RootCertStore {
    RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
}

/// TLS on each connection.
#[derive(Clone)]
pub struct Tls {
    acceptor: Option<TlsAcceptor>,
    connector: TlsConnector,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("server", &self.acceptor.is_some()).finish()
    }
}

impl Tls {
    /// TLS with these configurations.
    pub fn new(config: TlsConfig) -> Self {
        Self { acceptor: config.server.map(TlsAcceptor::from), connector: TlsConnector::from(config.client) }
    }
}

impl StreamLayer for Tls {
    type Stream = TlsStream<TcpStream>;

    fn name(&self) -> TransportName {
        TransportName::TLS
    }

    fn accept(&self, tcp: TcpStream) -> BoxFuture<'static, io::Result<Self::Stream>> {
        let acceptor = self.acceptor.clone();
        Box::pin(async move {
            let Some(acceptor) = acceptor else {
                return Err(io::Error::new(io::ErrorKind::Unsupported, "no server certificate"));
            };
            Ok(TlsStream::Server(acceptor.accept(tcp).await?))
        })
    }

    fn connect(&self, tcp: TcpStream, target: &Target) -> BoxFuture<'static, io::Result<Self::Stream>> {
        let connector = self.connector.clone();
        let name = match &target.server_name {
            Some(host) => ServerName::try_from(host.clone())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "server name is not a DNS name")),
            None => Ok(ServerName::IpAddress(target.remote.ip().into())),
        };
        Box::pin(async move { Ok(TlsStream::Client(connector.connect(name?, tcp).await?)) })
    }
    fn run(&self, stream: Self::Stream, connection: Connection) -> BoxFuture<'static, ()> {
        run_byte_stream(stream, connection)
    }
}

/// SIP over TLS.
pub type TlsTransport = StreamTransport<Tls>;

impl StreamTransport<Tls> {
    /// Listens on `addr` for TLS connections; what arrives on any connection goes to
    /// `incoming`.
    pub async fn bind(
        addr: SocketAddr,
        config: TlsConfig,
        settings: StreamSettings,
        incoming: IncomingSender,
    ) -> Result<Self, TransportError> {
        Self::bind_with(Tls::new(config), addr, settings, incoming).await
    }
}
