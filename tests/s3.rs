//! An S3-compatible server for tests: moto's (`python3 -m moto.server`,
//! from PyPI `moto[server]`, installed with pip at first use when missing),
//! on a free port, for as long as the value lives.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running S3 server.
pub struct S3Server {
    child: Child,
    /// Its endpoint, `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl S3Server {
    /// Start one and wait until it answers; panics saying how to install it
    /// when it cannot start.
    pub async fn start() -> S3Server {
        tokio::task::block_in_place(install_moto);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 -m moto.server");
        let mut server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client.get(&server.endpoint).send().await.is_ok() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "the S3 test server exited ({status}): install it with \
                     `python3 -m pip install 'moto[server]'`"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the S3 test server did not answer on {} within 30 s",
            server.endpoint
        );
    }

    /// Make bucket `name`.
    pub async fn bucket(&self, name: &str) {
        let answer = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .expect("create a bucket");
        assert!(
            answer.status().is_success(),
            "create bucket: {}",
            answer.status()
        );
    }

    /// Put `body` at `key` of `bucket`, as another system would.
    pub async fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        let answer = reqwest::Client::new()
            .put(format!("{}/{bucket}/{key}", self.endpoint))
            .body(body.to_vec())
            .send()
            .await
            .expect("put an object");
        assert!(answer.status().is_success(), "put: {}", answer.status());
    }

    /// Whether `key` of `bucket` exists (by a listing: moto refuses an
    /// unsigned HEAD).
    pub async fn exists(&self, bucket: &str, key: &str) -> bool {
        let listing = reqwest::Client::new()
            .get(format!("{}/{bucket}", self.endpoint))
            .query(&[("list-type", "2"), ("prefix", key)])
            .send()
            .await
            .expect("list a bucket")
            .text()
            .await
            .expect("the listing");
        listing.contains(&format!("<Key>{key}</Key>"))
    }
}

/// Install moto's server with pip when it is missing (once per process).
fn install_moto() {
    static INSTALLED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(|| {
        let present = || {
            Command::new("python3")
                .args(["-c", "import moto.server"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if present() {
            return;
        }
        let installed = Command::new("python3")
            .args(["-m", "pip", "install", "-q", "moto[server]"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed && present(),
            "moto's S3 server is missing and pip could not install it: \
             `python3 -m pip install 'moto[server]'`"
        );
    });
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
