//! The listening socket of the app and of the emulator. Every accepted connection sets
//! `TCP_NODELAY`: without it Nagle's algorithm holds a response's last small segment until the
//! client's delayed ACK (about 40 ms), on every second request of a keep-alive connection.

use std::io;
use std::net::SocketAddr;

use axum::serve::{ListenerExt, TapIo};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose accepted sockets send without delay; give it to `axum::serve`.
pub type NoDelayListener = TapIo<TcpListener, fn(&mut TcpStream)>;

/// Binds `addr` and wraps the listener with [`no_delay`].
pub async fn bind(addr: SocketAddr) -> io::Result<NoDelayListener> {
    Ok(no_delay(TcpListener::bind(addr).await?))
}

/// Sets `TCP_NODELAY` on every socket `listener` accepts.
pub fn no_delay(listener: TcpListener) -> NoDelayListener {
    listener.tap_io(set_nodelay)
}

fn set_nodelay(stream: &mut TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::warn!(%error, "TCP_NODELAY could not be set on an accepted socket");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::serve::Listener;

    #[tokio::test]
    async fn accepted_sockets_have_nodelay_set() {
        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = plain.local_addr().unwrap();
        let mut listener = no_delay(plain);
        let _client = TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listener.accept().await;
        assert!(
            accepted.nodelay().unwrap(),
            "TCP_NODELAY on the accepted socket"
        );
    }

    #[tokio::test]
    async fn a_plain_listener_would_not_set_it() {
        // The check above can fail: the operating system's default is off.
        let mut plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = plain.local_addr().unwrap();
        let _client = TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = Listener::accept(&mut plain).await;
        assert!(!accepted.nodelay().unwrap());
    }
}
