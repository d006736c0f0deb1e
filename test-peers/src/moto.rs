//! A moto server of a program's own, for benchmarks run outside `scripts/test-all`.
//!
//! [`OwnMoto::start`] runs the moto that `scripts/test-all` installed into `.peers/moto`,
//! behind the same request validator (`peers/moto_validating_launch.py`), on a free loopback
//! port, and stops it (by its process id) when dropped. Tests use the shared
//! [`Peer::Moto`](crate::Peer::Moto) instead.
//!
//! ```no_run
//! let moto = test_peers::moto::OwnMoto::start().expect("run scripts/test-all once to install moto");
//! assert!(moto.url().starts_with("http://127.0.0.1:"));
//! ```

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A moto server this process started; killed when dropped.
#[derive(Debug)]
pub struct OwnMoto {
    child: Child,
    url: String,
    violations: PathBuf,
}

fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

impl OwnMoto {
    /// Starts moto behind the request validator and waits until it listens.
    ///
    /// # Errors
    ///
    /// A message saying what to do when moto is not installed (`scripts/test-all` installs
    /// it) or does not start.
    pub fn start() -> Result<Self, String> {
        let root = workspace_root();
        let python = root.join(".peers/moto/bin/python");
        if !python.exists() {
            return Err(format!(
                "{} not found: run scripts/test-all once, which installs moto into .peers/",
                python.display()
            ));
        }
        let violations = std::env::temp_dir().join(format!(
            "own-moto-{}-{}.violations",
            std::process::id(),
            fastrand_suffix()
        ));
        let mut child = Command::new(&python)
            .arg(root.join("test-peers/peers/moto_validating_launch.py"))
            .args(["--host", "127.0.0.1", "--port", "0", "--violations-log"])
            .arg(&violations)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting moto ({}): {e}", python.display()))?;
        let stdout = child.stdout.take().ok_or("moto's stdout")?;
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => {
                    let _ = child.kill();
                    return Err("moto exited before it listened".into());
                }
                Ok(_) => {
                    if let Some(url) = line.trim().strip_prefix("MOTO_URL=") {
                        let url = url.to_owned();
                        // Keep draining stdout so that moto never blocks on a full pipe.
                        std::thread::spawn(move || {
                            let mut sink = String::new();
                            while reader.read_line(&mut sink).is_ok_and(|n| n > 0) {
                                sink.clear();
                            }
                        });
                        return Ok(Self {
                            child,
                            url,
                            violations,
                        });
                    }
                }
            }
        }
    }

    /// The server's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The requests the validator refused as the real service would, one per line (empty
    /// when every request was valid).
    pub fn violations(&self) -> String {
        std::fs::read_to_string(&self.violations).unwrap_or_default()
    }
}

fn fastrand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

impl Drop for OwnMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.violations);
    }
}
