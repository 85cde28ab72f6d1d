//! A throw-away PostgreSQL server from the system's `postgresql` package: `initdb` into a
//! temporary directory, listening on a free loopback port, stopped and removed on drop. As root
//! it runs as the package's `postgres` user (PostgreSQL refuses to run as root).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

/// Set to 1 (as `.ci/run` does) to fail instead of skipping when PostgreSQL is not installed.
const REQUIRE_ENV: &str = "ZKINFER_REQUIRE_POSTGRES";

/// The user PostgreSQL runs as when the tests run as root.
const SERVICE_USER: &str = "postgres";

#[derive(Debug)]
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_user: bool,
    pub url: String,
}

/// The directory holding `initdb` and `pg_ctl`: on the PATH, else Debian's versioned one.
fn binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file());
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|d| d.join("initdb").is_file())
            .collect();
        versions.sort();
        versions.pop()
    })
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Postgres {
    /// Starts a server, or says why not and returns None when PostgreSQL is not installed
    /// (a failure instead when `ZKINFER_REQUIRE_POSTGRES=1`).
    pub fn start(name: &str) -> Option<Self> {
        let Some(bin) = binaries() else {
            let message = "PostgreSQL is not installed (Debian's postgresql package): the PostgreSQL half of the \
                           proving-service tests is skipped";
            assert!(std::env::var(REQUIRE_ENV).as_deref() != Ok("1"), "{message}, and {REQUIRE_ENV}=1 requires it");
            eprintln!("{message}");
            return None;
        };
        // Outside the build directory: the server's user must be able to write there.
        let dir = std::env::temp_dir().join(format!("zkinfer-pg-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let as_user = is_root();
        if as_user {
            let status = Command::new("chown").args([SERVICE_USER, &dir.to_string_lossy()]).status().expect("chown");
            assert!(status.success(), "chown {SERVICE_USER} {}", dir.display());
        }
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let server = Self { url: format!("postgres://zkinfer@127.0.0.1:{port}/postgres"), dir, bin, port, as_user };
        let data = server.data();
        server.run("initdb", &["-D", &data, "-A", "trust", "-U", "zkinfer", "-E", "UTF8", "--no-sync"]);
        server.start_again();
        Some(server)
    }

    fn data(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = if self.as_user {
            let mut c = Command::new("runuser");
            c.args(["-u", SERVICE_USER, "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = command.args(args).current_dir(&self.dir).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server (again, after [`Postgres::stop`]) and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!("-p {} -h 127.0.0.1 -k {} -F", self.port, self.dir.display());
        let log = self.dir.join("log").to_string_lossy().into_owned();
        self.run("pg_ctl", &["-D", &self.data(), "-l", &log, "-o", &options, "-w", "start"]);
    }

    /// Stops the server now (connections dropped), as a lost database would.
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let _ = if self.as_user {
            Command::new("runuser").args(["-u", SERVICE_USER, "--"]).arg(&program).args(args).output()
        } else {
            Command::new(&program).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
