//! A TCP proxy in front of a broker or a database, to take it away from
//! Ferry without stopping a service other tests share.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A TCP proxy in front of a broker, to take the broker away from Ferry
/// without stopping a service other tests share: [`TcpProxy::cut`] drops
/// every connection, and while [`TcpProxy::set_down`] holds, new ones are
/// refused.
pub struct TcpProxy {
    /// `127.0.0.1:PORT` to give Ferry instead of the broker's address.
    pub address: String,
    cuts: watch::Sender<u64>,
    down: Arc<AtomicBool>,
}

impl TcpProxy {
    /// A proxy to `target` (`host:port`) on a free port.
    pub async fn start(target: &str) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = listener.local_addr().expect("proxy address").to_string();
        let (cuts, _) = watch::channel(0u64);
        let down = Arc::new(AtomicBool::new(false));
        let target = target.to_string();
        let accept_cuts = cuts.clone();
        let accept_down = down.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if accept_down.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = accept_cuts.subscribe();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut upstream) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        TcpProxy {
            address,
            cuts,
            down,
        }
    }

    /// Drop every open connection.
    pub fn cut(&self) {
        self.cuts.send_modify(|n| *n += 1);
    }

    /// Refuse new connections (`true`) or take them again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.cut();
        }
    }
}
