//! The retry presets named after a snippet behave as that snippet does: the
//! code the retry lab shows next to the preset (`lab::snippet`) is run, as
//! written, against a real nginx 1.22.1 on 127.0.0.1 whose app is down, and
//! its tries and its caller's wait are compared with the engine's run of the
//! preset on the same breakage.
//!
//! - JavaScript `fetchWithRetry` runs in node (20, its built-in `fetch`) in
//!   real time: 3 tries, a sleep of 1, 2 and 4 s after each 502 (the last
//!   one included), then "Max retries exceeded" after about 7.0 s.
//! - The Python `requests` loop runs in python3 with `requests`; its
//!   `time.sleep` is replaced by one that records the waits (1 + 2 + 4 + 8 +
//!   16 s) instead of sleeping them, so the test does not wait 31 s: its
//!   elapsed time is the measured requests plus the recorded sleeps.
//!
//! Needs nginx, node and python3 with requests (scripts/setup test installs
//! them); GATEWAY_LAB_NO_NGINX=1 skips.

mod common;

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gateway_core::lab::snippet;
use gateway_core::sim::proxy::nginx::conf::{render, Paths};
use gateway_core::sim::scenario::RetryPolicy;
use gateway_core::sim::world::effective;
use gateway_core::sim::{run, Fault, FaultKind, Scenario};

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

/// The ready blank scenario with its app down and one client request under `preset`, on `ports`.
fn scenario(preset: &str, proxy_port: u16, app_port: u16) -> Scenario {
    let mut sc = gateway_core::scenarios::blank();
    sc.proxy.listen = proxy_port;
    let app = format!("127.0.0.1:{app_port}");
    for a in &mut sc.apps {
        a.listen = app.clone();
    }
    for s in &mut sc.upstream.servers {
        s.address = app.clone();
    }
    sc.faults = vec![Fault::from(FaultKind::AppDown)];
    sc.requests.clear();
    sc.clients.requests = 1;
    sc.clients.retry = RetryPolicy::preset(preset).unwrap();
    sc
}

/// A real nginx running the engine's exported configuration of `sc`, in `dir`.
struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Nginx {
    fn start(bin: &Path, sc: &Scenario, dir: &Path) -> Nginx {
        for d in ["logs", "tmp"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let d = dir.display();
        let site = dir.join("gateway-lab.conf");
        let paths = Paths { log_dir: format!("{d}/logs"), ..Paths::default() };
        std::fs::write(&site, render(&effective(sc), &paths).text).unwrap();
        let main = format!(
            "daemon off;\nmaster_process on;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/logs/main-error.log notice;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n    client_body_temp_path {d}/tmp/body;\n    proxy_temp_path {d}/tmp/proxy;\n    fastcgi_temp_path {d}/tmp/fastcgi;\n    uwsgi_temp_path {d}/tmp/uwsgi;\n    scgi_temp_path {d}/tmp/scgi;\n    include {};\n}}\n",
            site.display()
        );
        std::fs::write(dir.join("nginx.conf"), main).unwrap();
        let mut child = Command::new(bin)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(dir.join("stderr.log")).unwrap())
            .process_group(0)
            .spawn()
            .unwrap();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, sc.proxy.listen));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("nginx exited ({status}): {}", std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default());
            }
            assert!(Instant::now() < deadline, "nginx did not listen on {addr} within 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        Nginx { child, dir: dir.to_path_buf() }
    }

    /// Lines of its access.log so far.
    fn access(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("logs/access.log")).unwrap_or_default().lines().map(str::to_string).collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // The whole process group (master and worker), whatever happened.
        let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.wait();
    }
}

/// What the snippet's caller saw: its error (or status) and how long it waited, in ms.
#[derive(Debug)]
struct Caller {
    error: Option<String>,
    status: Option<u64>,
    ms: f64,
    slept_s: Vec<f64>,
}

fn parse(out: &std::process::Output, what: &str) -> Caller {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{what}: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{what}: {e}: {text}"));
    Caller {
        error: v["error"].as_str().map(str::to_string),
        status: v["status"].as_u64(),
        ms: v["ms"].as_f64().unwrap(),
        slept_s: v["slept"].as_array().map(|a| a.iter().filter_map(|x| x.as_f64()).collect()).unwrap_or_default(),
    }
}

/// Runs the JavaScript snippet, as written, with node: one call, timed by the caller.
fn run_js(code: &str, url: &str, dir: &Path) -> Caller {
    let file = dir.join("fetch-with-retry.mjs");
    let harness = format!(
        "{code}\n\n// The caller, timed.\nconst t0 = performance.now();\ntry {{\n  const res = await fetchWithRetry(process.argv[2]);\n  console.log(JSON.stringify({{ status: res.status, ms: performance.now() - t0 }}));\n}} catch (e) {{\n  console.log(JSON.stringify({{ error: e.message, ms: performance.now() - t0 }}));\n}}\n"
    );
    std::fs::write(&file, harness).unwrap();
    let out = Command::new("node").arg(&file).arg(url).output().expect("node (scripts/setup test installs it)");
    parse(&out, "node")
}

/// Runs the Python snippet, as written, with python3; its sleeps are recorded, not slept.
fn run_python(code: &str, url: &str, dir: &Path) -> Caller {
    let file = dir.join("get_with_retry.py");
    let harness = format!(
        "{code}\n\n# The caller, timed; the snippet's time.sleep records its waits instead of sleeping.\nimport json, sys\nslept = []\ntime.sleep = slept.append\nt0 = time.monotonic()\ntry:\n    r = get_with_retry(sys.argv[1])\n    out = {{\"status\": r.status_code}}\nexcept Exception as e:\n    out = {{\"error\": str(e)}}\nout[\"ms\"] = (time.monotonic() - t0 + sum(slept)) * 1000\nout[\"slept\"] = slept\nprint(json.dumps(out))\n"
    );
    std::fs::write(&file, harness).unwrap();
    let out = Command::new("python3").arg(&file).arg(url).output().expect("python3");
    parse(&out, "python3")
}

#[test]
fn the_quoted_snippets_behave_like_their_presets_against_a_real_nginx() {
    let Some(bin) = common::proxy_binary("nginx", "GATEWAY_LAB_NO_NGINX") else { return };
    let root = std::env::temp_dir().join(format!("gateway-lab-snippets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    // (preset, tries, the sleeps after each try, the last included)
    for (preset, tries, sleeps) in [("fetch_with_retry", 3usize, vec![1.0, 2.0, 4.0]), ("python_requests", 5, vec![1.0, 2.0, 4.0, 8.0, 16.0])] {
        let s = snippet(preset).unwrap_or_else(|| panic!("{preset}: no snippet"));
        let total_s: f64 = sleeps.iter().sum();
        // The real caller sleeps in real time (node's setTimeout): on a loaded machine its timers
        // fire late. A run that came back LATER than the sleeps + 250 ms gets up to two more runs,
        // each on a fresh nginx (as the fidelity harness does with late arrivals); an early or
        // otherwise different run is never re-run.
        let mut runs = 0;
        let (sc, real, access) = loop {
            runs += 1;
            let (proxy_port, app_port) = (free_port(), free_port());
            let sc = scenario(preset, proxy_port, app_port);
            let dir = root.join(format!("{preset}-{runs}"));
            let nginx = Nginx::start(&bin, &sc, &dir);
            let url = format!("http://127.0.0.1:{proxy_port}/users");
            let real = match s.language {
                "JavaScript" => run_js(s.code, &url, &dir),
                "Python" => run_python(s.code, &url, &dir),
                other => panic!("{preset}: {other}"),
            };
            let access = nginx.access();
            drop(nginx);
            if real.ms < total_s * 1_000.0 + 250.0 || runs == 3 {
                break (sc, real, access);
            }
            eprintln!("{preset}: the real caller came back late ({:.0} ms, the sleeps are {total_s} s): run {} of 3", real.ms, runs + 1);
        };

        // The engine, on the same breakage with the preset.
        let sim = run(sc).unwrap();
        let w = sim.world();
        let op = &w.ops[0];
        let engine_ms = op.finished.unwrap().since(op.started) as f64 / 1_000.0;
        let statuses: Vec<Option<u16>> = op.tries.iter().map(|&t| sim.exchanges()[t].logged_status).collect();
        eprintln!(
            "{preset}: real nginx + {}: {:?} after {:.0} ms, {} tries ({} access.log lines); engine: {} after {engine_ms:.0} ms, {} tries {statuses:?}",
            s.language,
            real.error,
            real.ms,
            access.len(),
            access.len(),
            op.outcome,
            op.tries.len()
        );

        // The snippet's caller: no response, "Max retries exceeded".
        assert_eq!((real.error.as_deref(), real.status), (Some("Max retries exceeded"), None), "{preset}: {real:?}");
        // Tries: the snippet's, as nginx logged them, and the engine's: all 502.
        assert_eq!(access.len(), tries, "{preset}: {access:#?}");
        assert!(access.iter().all(|l| l.contains("\"GET /users HTTP/1.1\" 502 ")), "{preset}: {access:#?}");
        assert_eq!(statuses, vec![Some(502); tries], "{preset}");
        assert!(!op.ok && op.outcome == "502", "{preset}: {}", op.outcome);
        if !real.slept_s.is_empty() {
            assert_eq!(real.slept_s, sleeps, "{preset}: the snippet's sleeps");
        }
        // The caller's wait: the sleeps, the last one included, plus the tries themselves.
        for (who, ms) in [("real", real.ms), ("engine", engine_ms)] {
            assert!(ms >= total_s * 1_000.0 && ms < total_s * 1_000.0 + 250.0, "{preset}: {who} caller waited {ms:.0} ms, expected {total_s} s + the tries");
        }
        assert!((real.ms - engine_ms).abs() < 250.0, "{preset}: real {:.0} ms vs engine {engine_ms:.0} ms", real.ms);
    }
    std::fs::remove_dir_all(&root).ok();
}
