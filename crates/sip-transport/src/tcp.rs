//! SIP over TCP (§18): the [`StreamTransport`] with nothing on its connections.

use std::io;
use std::net::SocketAddr;

use futures::future::BoxFuture;
use sip_message::header::Transport as TransportName;
use tokio::net::TcpStream;

use crate::stream::{Connection, StreamLayer, StreamSettings, StreamTransport, run_byte_stream};
use crate::{IncomingSender, Target, TransportError};

/// Plain TCP: connections carry SIP as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl StreamLayer for Plain {
    type Stream = TcpStream;

    fn name(&self) -> TransportName {
        TransportName::TCP
    }

    fn accept(&self, tcp: TcpStream) -> BoxFuture<'static, io::Result<TcpStream>> {
        Box::pin(async move { Ok(tcp) })
    }

    fn connect(&self, tcp: TcpStream, _target: &Target) -> BoxFuture<'static, io::Result<TcpStream>> {
        Box::pin(async move { Ok(tcp) })
    }
    fn run(&self, stream: TcpStream, connection: Connection) -> BoxFuture<'static, ()> {
        run_byte_stream(stream, connection)
    }
}

/// SIP over TCP.
pub type TcpTransport = StreamTransport<Plain>;

impl StreamTransport<Plain> {
    /// Listens on `addr`; what arrives on any connection goes to `incoming`.
    pub async fn bind(
        addr: SocketAddr,
        settings: StreamSettings,
        incoming: IncomingSender,
    ) -> Result<Self, TransportError> {
        Self::bind_with(Plain, addr, settings, incoming).await
    }
}
