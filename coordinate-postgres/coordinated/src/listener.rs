//! The listening socket as axum sees it: plain TCP or TLS, every
//! connection closed after it stays silent for the idle timeout, and both
//! ends of each connection known to handlers (the `Host` check needs the
//! address the client connected to).
//!
//! Accepting and TLS handshakes happen on a task of their own, so one slow
//! handshake never holds up the next connection; axum takes the finished
//! connections from a channel. When axum stops accepting (shutdown), the
//! channel's end is dropped and that task closes the socket.

use std::future::Future as _;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// The longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Both ends of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// The address the client connected to.
    pub local: SocketAddr,
}

/// The server's listener (see the module docs).
pub struct ServerListener {
    connections: mpsc::Receiver<(Connection, ConnInfo)>,
    local: SocketAddr,
}

impl ServerListener {
    /// Starts accepting on `listener`, with TLS when `tls` is given.
    pub fn start(
        listener: TcpListener,
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
        idle: Duration,
    ) -> io::Result<Self> {
        let local = listener.local_addr()?;
        let (sender, connections) = mpsc::channel(64);
        let acceptor = tls.map(TlsAcceptor::from);
        tokio::spawn(accept_loop(listener, acceptor, idle, sender));
        Ok(ServerListener { connections, local })
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    idle: Duration,
    sender: mpsc::Sender<(Connection, ConnInfo)>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = sender.closed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(local) = stream.local_addr() else {
            continue;
        };
        let info = ConnInfo { peer, local };
        let sender = sender.clone();
        match acceptor.clone() {
            None => {
                let _ = sender.send((Connection::plain(stream, idle), info)).await;
            }
            Some(acceptor) => {
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = sender.send((Connection::tls(tls, idle), info)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        }
    }
}

impl axum::serve::Listener for ServerListener {
    type Io = Connection;
    type Addr = ConnInfo;

    async fn accept(&mut self) -> (Connection, ConnInfo) {
        match self.connections.recv().await {
            Some(connection) => connection,
            // The accepting task only stops when this end is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<ConnInfo> {
        Ok(ConnInfo {
            peer: self.local,
            local: self.local,
        })
    }
}

impl Connected<IncomingStream<'_, ServerListener>> for ConnInfo {
    fn connect_info(stream: IncomingStream<'_, ServerListener>) -> Self {
        *stream.remote_addr()
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// One accepted connection, plain or TLS, with its idle deadline.
pub struct Connection {
    stream: Stream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl Connection {
    fn plain(stream: TcpStream, idle: Duration) -> Self {
        Connection::new(Stream::Plain(stream), idle)
    }

    fn tls(stream: TlsStream<TcpStream>, idle: Duration) -> Self {
        Connection::new(Stream::Tls(Box::new(stream)), idle)
    }

    fn new(stream: Stream, idle: Duration) -> Self {
        Connection {
            stream,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }

    /// Progress pushes the deadline back; waiting past it is an error.
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(result) => {
                let idle = self.idle;
                self.deadline.as_mut().reset(Instant::now() + idle);
                Poll::Ready(result)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection idle for too long",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let poll = match &mut this.stream {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        };
        this.watch(cx, poll)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = match &mut this.stream {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        };
        this.watch(cx, poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
