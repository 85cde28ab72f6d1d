//! The proving service as operators run it, once on SQLite and once on a real PostgreSQL
//! server: an API process (`zkinfer serve --models DIR --workers 0`) and three `zkinfer worker`
//! processes share the database. Four clients submit 40 jobs; one worker is killed with
//! SIGKILL in the middle of a proof. Every job must end done, stored exactly once, its proof
//! verifying and its outputs equal to the integer interpreter's; resubmitting with an
//! idempotency key gives the same job. Bad requests get typed errors and queue nothing; a
//! worker sent SIGTERM while jobs wait exits cleanly after at most the job in hand. On PostgreSQL the database
//! is also stopped under the running workers, which must recover once it is back; a database
//! that cannot be reached stops a worker and the API at start.

#![allow(clippy::unwrap_used, clippy::panic)]

mod postgres;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zkinfer_models::data::InputData;
use zkinfer_verifier::Verifier;

use postgres::Postgres;

/// Jobs the clients submit.
const JOBS: usize = 40;
/// Client threads.
const CLIENTS: usize = 4;
/// Worker processes.
const WORKERS: usize = 3;
/// Lease length: short, so that the killed worker's job is proven again soon.
const LEASE_SECS: &str = "2";
/// How long all jobs may take.
const DEADLINE: Duration = Duration::from_secs(300);

/// The two suites share the two cores: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

struct Fixture {
    models: PathBuf,
    verifier: Verifier,
    samples: Vec<Vec<f64>>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn params_dir() -> PathBuf {
    root().join("target/zkinfer-params")
}

fn zkinfer() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zkinfer"));
    c.current_dir(root()).env("ZKINFER_PARAMS_DIR", params_dir());
    c
}

fn run_ok(args: &[&str]) {
    let out = zkinfer().args(args).output().unwrap();
    assert!(out.status.success(), "zkinfer {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A models directory with the digits MLP and its key file, its bundle's verifier, and the
/// first calibration samples as inputs.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("proving-service");
        let _ = std::fs::remove_dir_all(&dir);
        let models = dir.join("models");
        std::fs::create_dir_all(&models).unwrap();
        let zkm = models.join("digits_mlp.zkm");
        let zkv = dir.join("digits_mlp.zkv");
        let (zkm_s, zkv_s) = (zkm.to_str().unwrap(), zkv.to_str().unwrap());
        run_ok(&[
            "compile",
            "models/zoo/digits_mlp.onnx",
            "--calibration",
            "models/zoo/digits_mlp.calibration.json",
            "-o",
            zkm_s,
        ]);
        run_ok(&["setup", zkm_s]);
        assert!(models.join("digits_mlp.zkkey").is_file());
        run_ok(&["export-verifier", zkm_s, "-o", zkv_s]);
        let verifier = Verifier::from_bundle_bytes(&std::fs::read(&zkv).unwrap()).unwrap();
        let calibration = root().join("models/zoo/digits_mlp.calibration.json");
        let samples = InputData::from_file(&calibration).unwrap().input_data.into_iter().take(JOBS).collect();
        Fixture { models, verifier, samples }
    })
}

/// A child process killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The API process, without workers of its own.
fn api(database: &str, extra: &[&str]) -> (Process, String) {
    let models = fixture().models.to_str().unwrap();
    let mut child = zkinfer()
        .args(["serve", "--models", models, "--database", database, "--workers", "0", "--listen", "127.0.0.1:0"])
        .args(["--lease-secs", LEASE_SECS])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the API prints its address").unwrap();
        if let Some(a) = line.strip_prefix("listening on http://") {
            break a.to_string();
        }
    };
    (Process(child), addr)
}

/// A worker process; its stderr lines go to `log` as `(worker, line)` until it exits (join
/// the thread to have them all).
fn worker(database: &str, index: usize, log: Sender<(usize, String)>) -> (Process, JoinHandle<()>) {
    let models = fixture().models.to_str().unwrap();
    let mut child = zkinfer()
        .args(["worker", "--models", models, "--database", database, "--lease-secs", LEASE_SECS])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = log.send((index, line));
        }
    });
    (Process(child), reader)
}

/// Reads worker lines (keeping them in `lines`) until one satisfies `want`; panics at the deadline.
fn wait_for_line(
    log: &Receiver<(usize, String)>,
    lines: &mut Vec<(usize, String)>,
    what: &str,
    want: impl Fn(usize, &str) -> bool,
) -> (usize, String) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (worker, line) = log.recv_timeout(left).unwrap_or_else(|_| panic!("no worker line {what}: {lines:?}"));
        lines.push((worker, line.clone()));
        if want(worker, &line) {
            return (worker, line);
        }
    }
}

/// The job a "job N proving (attempt A)" line names.
fn proving_job(line: &str) -> Option<i64> {
    let rest = line.split(": job ").nth(1)?.strip_suffix(")")?;
    rest.split_once(" proving (attempt ")?.0.parse().ok()
}

/// One HTTP/1.1 request: status, headers (lowercase names) and body.
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body); // a 413 may close the connection before the body is read
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP answer");
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head, raw[split + 4..].to_vec())
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

fn error_kind(body: &[u8]) -> String {
    json_of(body)["error"]["kind"].as_str().unwrap_or("").to_string()
}

fn prove_body(sample: &[f64], key: Option<&str>) -> Vec<u8> {
    let mut body = json!({ "model": "digits_mlp", "input": { "input_data": [sample] } });
    if let Some(key) = key {
        body["idempotency_key"] = json!(key);
    }
    body.to_string().into_bytes()
}

/// Jobs by state, from `/metrics`.
fn job_counts(addr: &str) -> BTreeMap<String, i64> {
    let (status, _, body) = http(addr, "GET", "/metrics", b"");
    assert_eq!(status, 200);
    String::from_utf8(body)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("zkinfer_jobs{state=\""))
        .map(|l| {
            let (state, n) = l.split_once("\"} ").unwrap();
            (state.to_string(), n.parse().unwrap())
        })
        .collect()
}

/// Polls until the job is done or failed.
fn wait_for(addr: &str, id: i64, deadline: Instant) -> Value {
    loop {
        let (status, _, body) = http(addr, "GET", &format!("/v1/jobs/{id}"), b"");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let job = json_of(&body);
        if job["state"] == "done" || job["state"] == "failed" {
            return job;
        }
        assert!(Instant::now() < deadline, "job {id} not finished in time: {job}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The integer outputs the interpreter computes for a sample.
fn interpreter_outputs(sample: &[f64]) -> Vec<Vec<i64>> {
    let compiled = fixture().verifier.compiled();
    let model = &compiled.model;
    let shape = model.tensor(model.input).shape.clone();
    let input = InputData { input_data: vec![sample.to_vec()] }.samples(&shape).unwrap().remove(0);
    let trace = model.run(&input).unwrap();
    model.outputs.iter().map(|&t| trace.get(t).iter().copied().collect()).collect()
}

/// Checks a done job: its proof verifies, and the proven outputs, the job's result and the
/// interpreter's outputs are the same integers.
fn check_done(addr: &str, job: &Value, sample: &[f64]) {
    assert_eq!(job["state"], "done", "{job}");
    let id = job["id"].as_i64().unwrap();
    let (status, _, proof) = http(addr, "GET", &format!("/v1/jobs/{id}/proof"), b"");
    assert_eq!(status, 200);
    let verified = fixture().verifier.verify_bytes(&proof).unwrap();
    let proven: Vec<Vec<i64>> = verified.outputs.iter().map(|t| t.values.clone()).collect();
    assert_eq!(proven, interpreter_outputs(sample), "job {id}");
    let stored: Vec<Vec<i64>> = job["result"]["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["values"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect())
        .collect();
    assert_eq!(stored, proven, "job {id}");
    assert_eq!(job["circuit_identity"], json!(verified.circuit_identity));
}

/// Submits every sample from `CLIENTS` threads, each with its idempotency key; the job ids.
fn submit_all(addr: &str, run: &str) -> Vec<i64> {
    let samples = &fixture().samples;
    let ids = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..CLIENTS)
            .map(|client| {
                scope.spawn(move || {
                    (client..samples.len())
                        .step_by(CLIENTS)
                        .map(|i| {
                            let key = format!("{run}-{i}");
                            let (status, _, body) =
                                http(addr, "POST", "/v1/prove", &prove_body(&samples[i], Some(&key)));
                            assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
                            (i, json_of(&body)["id"].as_i64().unwrap())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads.into_iter().flat_map(|t| t.join().unwrap()).collect::<BTreeMap<_, _>>()
    });
    ids.into_values().collect()
}

/// Kills worker `victim` as soon as it starts proving a job (a line printed from now on, not
/// one already buffered); the job it held.
fn kill_mid_proof(
    workers: &mut [Process],
    victim: usize,
    log: &Receiver<(usize, String)>,
    lines: &mut Vec<(usize, String)>,
) -> i64 {
    lines.extend(log.try_iter());
    let (_, line) = wait_for_line(log, lines, "proving", |w, l| w == victim && proving_job(l).is_some());
    workers[victim].0.kill().unwrap();
    let _ = workers[victim].0.wait();
    proving_job(&line).unwrap()
}

/// Sends SIGTERM to worker `index` as it starts a job while others wait: it must exit with
/// success after at most that job.
fn terminate_under_load(
    workers: &mut [Process],
    index: usize,
    log: &Receiver<(usize, String)>,
    lines: &mut Vec<(usize, String)>,
) {
    lines.extend(log.try_iter());
    wait_for_line(log, lines, "proving", |w, l| w == index && proving_job(l).is_some());
    let mark = lines.len();
    let pid = workers[index].0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = workers[index].0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "a worker kept running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "a worker stopped by SIGTERM exited with {status}");
    std::thread::sleep(Duration::from_millis(200));
    lines.extend(log.try_iter());
    let after = lines[mark..].iter().filter(|(w, l)| *w == index && l.ends_with(" done")).count();
    assert!(after <= 1, "the worker proved {after} jobs after SIGTERM");
}

/// Requests that must be refused, each with its kind; none may queue a job.
fn bad_requests_queue_nothing(addr: &str) {
    // (Workers move jobs between states meanwhile: the total is what must not change.)
    let total = |addr: &str| job_counts(addr).values().sum::<i64>();
    let before = total(addr);
    let sample = &fixture().samples[0];
    let huge = vec![b'x'; 5 << 20];
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{not json".to_vec(), 400, "bad_request"),
        (br#"{"model": "digits_mlp"}"#.to_vec(), 400, "bad_request"),
        (json!({"model": "digits_mlp", "input": [1, 2]}).to_string().into_bytes(), 400, "bad_request"),
        (json!({"model": "nope", "input": {"input_data": [sample]}}).to_string().into_bytes(), 404, "unknown_model"),
        (prove_body(&sample[..63], None), 422, "input_refused"),
        (prove_body(&[sample.as_slice(), sample.as_slice()].concat(), None), 422, "input_refused"),
        (prove_body(&vec![1e6; 64], None), 422, "input_refused"),
        (prove_body(sample, Some("")), 400, "bad_request"),
        (huge, 413, "payload_too_large"),
    ];
    for (body, status, kind) in cases {
        let (got, _, answer) = http(addr, "POST", "/v1/prove", &body);
        assert_eq!((got, error_kind(&answer).as_str()), (status, kind), "{}", String::from_utf8_lossy(&answer));
    }
    assert_eq!(http(addr, "GET", "/v1/jobs/999999", b"").0, 404);
    assert_eq!(http(addr, "GET", "/v1/jobs/abc/proof", b"").0, 404);
    assert_eq!(total(addr), before, "a refused request queued a job");
}

/// The whole scenario against one database; `postgres` also stops and restarts the server.
fn scenario(database: &str, run: &str, postgres: Option<&Postgres>) {
    let (_api, addr) = api(database, &[]);
    let (log_tx, log) = channel();
    let (mut workers, readers): (Vec<Process>, Vec<JoinHandle<()>>) =
        (0..WORKERS).map(|i| worker(database, i, log_tx.clone())).unzip();
    drop(log_tx);
    let mut lines = Vec::new();

    let ids = submit_all(&addr, run);
    assert_eq!(ids.len(), JOBS);
    let samples = &fixture().samples;
    // The same key again: the same job; with another input: a conflict.
    for i in 0..3 {
        let (status, _, body) = http(&addr, "POST", "/v1/prove", &prove_body(&samples[i], Some(&format!("{run}-{i}"))));
        assert_eq!((status, json_of(&body)["id"].as_i64()), (200, Some(ids[i])));
    }
    let (status, _, body) = http(&addr, "POST", "/v1/prove", &prove_body(&samples[1], Some(&format!("{run}-0"))));
    assert_eq!((status, error_kind(&body).as_str()), (409, "idempotency_conflict"));

    let killed_job = kill_mid_proof(&mut workers, 0, &log, &mut lines);
    terminate_under_load(&mut workers, 1, &log, &mut lines);
    bad_requests_queue_nothing(&addr);

    let deadline = Instant::now() + DEADLINE;
    for (i, &id) in ids.iter().enumerate() {
        let job = wait_for(&addr, id, deadline);
        check_done(&addr, &job, &samples[i]);
        if id == killed_job {
            assert!(job["attempts"].as_i64().unwrap() >= 2, "the killed worker's job was not proven again: {job}");
        }
    }
    let counts = job_counts(&addr);
    assert_eq!(counts.get("done"), Some(&(JOBS as i64)), "{counts:?}");
    assert_eq!(counts.values().sum::<i64>(), JOBS as i64, "{counts:?}");

    if let Some(server) = postgres {
        database_lost_and_back(&addr, server, &log, &mut lines);
    }
    drop(workers);
    for reader in readers {
        reader.join().unwrap();
    }
    lines.extend(log.try_iter());
    // Each job's result was stored once: one "done" line per job, none from the killed worker
    // for the job it held.
    for &id in &ids {
        let stored: Vec<usize> =
            lines.iter().filter(|(_, l)| l.ends_with(&format!(": job {id} done"))).map(|(w, _)| *w).collect();
        assert_eq!(stored.len(), 1, "job {id} stored {} times", stored.len());
        if id == killed_job {
            assert_ne!(stored[0], 0, "the killed worker stored a result");
        }
    }
}

/// Stops PostgreSQL under the running workers: submissions get 503 with Retry-After; once it
/// is back, the workers say so and prove a new job.
fn database_lost_and_back(
    addr: &str,
    server: &Postgres,
    log: &Receiver<(usize, String)>,
    lines: &mut Vec<(usize, String)>,
) {
    server.stop();
    let (status, head, body) = http(addr, "POST", "/v1/prove", &prove_body(&fixture().samples[0], None));
    assert_eq!((status, error_kind(&body).as_str()), (503, "database_unavailable"));
    assert!(head.contains("retry-after:"), "{head}");
    wait_for_line(log, lines, "about the lost database", |_, l| l.contains("database unreachable"));
    server.start_again();
    let (status, _, body) = http(addr, "POST", "/v1/prove", &prove_body(&fixture().samples[5], None));
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    wait_for_line(log, lines, "about the database's return", |_, l| l.contains("database reachable again"));
    let job = wait_for(addr, json_of(&body)["id"].as_i64().unwrap(), Instant::now() + DEADLINE);
    check_done(addr, &job, &fixture().samples[5]);
}

#[test]
fn proving_service_on_sqlite() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let db = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("proving-service-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    scenario(&format!("sqlite://{}", db.display()), "sqlite", None);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

#[test]
fn proving_service_on_postgres() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(server) = Postgres::start("service") else { return };
    fixture();
    scenario(&server.url, "postgres", Some(&server));
}

#[test]
fn an_unreachable_database_stops_a_worker_at_start() {
    let models = fixture().models.to_str().unwrap();
    // Port 1 on loopback: nothing listens there.
    let out = zkinfer()
        .args(["worker", "--models", models, "--database", "postgres://zkinfer:secret@127.0.0.1:1/jobs"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("cannot reach the database at postgres://zkinfer:***@127.0.0.1:1/jobs"), "{stderr}");
    assert!(!stderr.contains("secret"), "{stderr}");
    let out = zkinfer()
        .args([
            "serve",
            "--models",
            models,
            "--database",
            "postgres://zkinfer@127.0.0.1:1/jobs",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the database"));
    let out = zkinfer().args(["worker", "--models", models, "--database", "mysql://h/db"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[test]
fn a_full_queue_answers_503_with_retry_after() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let db = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("full-queue-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let (api_process, addr) = api(&format!("sqlite://{}", db.display()), &["--max-queued", "2"]);
    let samples = &fixture().samples;
    for sample in &samples[..2] {
        assert_eq!(http(&addr, "POST", "/v1/prove", &prove_body(sample, None)).0, 202);
    }
    let (status, head, body) = http(&addr, "POST", "/v1/prove", &prove_body(&samples[2], None));
    assert_eq!((status, error_kind(&body).as_str()), (503, "queue_full"));
    assert!(head.contains("retry-after: 5"), "{head}");
    assert_eq!(job_counts(&addr).get("queued"), Some(&2));
    drop(api_process);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}
