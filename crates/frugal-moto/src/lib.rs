//! # frugal-moto
//!
//! Test support shared by the crates whose tests talk to a local AWS emulator: a
//! `moto_server` on a free loopback port, killed on drop. Use it as a dev-dependency.
//!
//! The server is found through `FRUGAL_MOTO_SERVER`, then `<workspace>/.venv/bin/moto_server`
//! (what `cargo xtask test` installs), then `moto_server` on PATH. Without one the test
//! fails: it never passes silently.
//!
//! Gaps of moto 5.2.1 around change sets are filled for the server's lifetime (a
//! `sitecustomize` on its `PYTHONPATH`): a stack created through a change set cannot import
//! other stacks' exports; one created or updated through a change set registers neither
//! its outputs nor its exports (so `Fn::ImportValue` fails with "No export named …" and
//! deleting the exporting stack answers 500); and describing a deleted stack evaluates its
//! outputs, which re-creates the resources they reference. Real CloudFormation does none
//! of this. And a SageMaker endpoint configuration's ARN is kept as a tuple, so the tagging
//! API's `GetResources` fails while one exists.

#![warn(missing_docs)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A minimal image manifest ECR's `PutImage` accepts: pushes an "image" without a
/// registry client.
pub const IMAGE_MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,"digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"},"layers":[]}"#;

/// A running moto server.
pub struct Moto {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    log: PathBuf,
    shim: PathBuf,
}

/// Registers the exports of stacks that change sets create or update (see the module docs).
const SHIM: &str = r#"
try:
    import moto.cloudformation.models as _m

    _execute = _m.CloudFormationBackend.execute_change_set

    def _execute_change_set(self, change_set_name, stack_name=None):
        _execute(self, change_set_name, stack_name)
        change_set = self.change_sets.get(change_set_name) or next(
            (c for c in self.change_sets.values() if c.change_set_name == change_set_name), None
        )
        stack = change_set and self.stacks.get(change_set.stack_id)
        if stack is not None:
            # The stack's outputs were parsed from the empty template it was created with.
            stack._parse_template()
            stack.output_map = stack._create_output_map()
            for export in stack.exports:
                self.exports[export.name] = export

    _m.CloudFormationBackend.execute_change_set = _execute_change_set

    _create = _m.CloudFormationBackend.create_change_set

    def _create_change_set(self, *args, **kwargs):
        result = _create(self, *args, **kwargs)
        # A CREATE change set's stack is made without the region's exports to import from.
        for stack in self.stacks.values():
            if stack.stack_id == result[1]:
                stack.cross_stack_resources = self.exports
                stack.resource_map.cross_stack_resources = self.exports
        return result

    _m.CloudFormationBackend.create_change_set = _create_change_set

    _delete = _m.CloudFormationBackend.delete_stack

    def _delete_stack(self, name_or_stack_id):
        _delete(self, name_or_stack_id)
        # Describing a deleted stack evaluates its outputs, which re-creates the resources
        # they reference (a deleted bucket comes back): forget the outputs.
        for stack in self.deleted_stacks.values():
            stack.output_map = type(stack.output_map)(stack.resource_map, {}, stack.stack_id)

    _m.CloudFormationBackend.delete_stack = _delete_stack
except Exception as e:  # a moto without the gap, or renamed internals: run unpatched
    import sys
    print("frugal moto shim not applied:", e, file=sys.stderr)

try:
    import moto.sagemaker.models as _sm

    _endpoint_config_init = _sm.FakeEndpointConfig.__init__

    def _endpoint_config_init_arn_str(self, *args, **kwargs):
        _endpoint_config_init(self, *args, **kwargs)
        # moto keeps an endpoint configuration's ARN as a one-element tuple, which makes
        # the tagging API's GetResources answer 500 while one exists.
        if isinstance(self.arn, tuple):
            self.arn = self.arn[0]

    _sm.FakeEndpointConfig.__init__ = _endpoint_config_init_arn_str
except Exception as e:
    import sys
    print("frugal moto shim (sagemaker) not applied:", e, file=sys.stderr)
"#;

/// The workspace root (this crate lives in `crates/frugal-moto`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Where moto_server is, or a message saying how to get it.
pub fn find_moto_server() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("FRUGAL_MOTO_SERVER") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("FRUGAL_MOTO_SERVER={} does not exist; `cargo xtask test` installs moto_server and sets it", p.display()))
        };
    }
    let venv = workspace_root().join(".venv/bin/moto_server");
    if venv.is_file() {
        return Ok(venv);
    }
    on_path("moto_server").ok_or_else(|| {
        "moto_server not found (FRUGAL_MOTO_SERVER, .venv/bin/moto_server, PATH); `cargo xtask test` installs it".to_owned()
    })
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    l.local_addr().expect("local address").port()
}

fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.")
}

impl Moto {
    /// Starts moto_server on a free port and waits (at most 60 s) until it answers.
    pub fn start() -> Moto {
        let bin = find_moto_server().unwrap_or_else(|m| panic!("{m}"));
        let port = free_port();
        let log =
            std::env::temp_dir().join(format!("frugal-moto-{}-{port}.log", std::process::id()));
        let out = std::fs::File::create(&log).expect("create the moto log");
        let err = out.try_clone().expect("clone the log handle");
        let shim =
            std::env::temp_dir().join(format!("frugal-moto-shim-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&shim).expect("create the shim dir");
        std::fs::write(shim.join("sitecustomize.py"), SHIM).expect("write the shim");
        let mut python_path = vec![shim.clone()];
        python_path.extend(
            std::env::var_os("PYTHONPATH")
                .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .unwrap_or_default(),
        );
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ACCOUNT_ID", "123456789012")
            .env(
                "PYTHONPATH",
                std::env::join_paths(python_path).expect("PYTHONPATH"),
            )
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut moto = Moto {
            child,
            port,
            log,
            shim,
        };
        let start = Instant::now();
        while !answers(port) {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited ({status}): {}", moto.log_text());
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "moto_server did not answer within 60 s: {}",
                moto.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://localhost:PORT` (moto reads staged template URLs only on `localhost`).
    pub fn localhost_url(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// An SDK configuration pointing at this server.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .endpoint_url(self.url())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "testing", "testing", None, None, "moto",
                    ),
                ),
            )
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    /// Forgets every resource (`POST /moto-api/reset`), so one server can serve several
    /// scenarios in turn.
    pub fn reset(&self) {
        let (status, body) = self.http("POST", "/moto-api/reset", &[], "");
        assert_eq!(status, 200, "moto reset failed: {body}");
    }

    /// Calls an AWS Query-protocol action (`Action=…&…` form POST) of `service` (its
    /// signing name, e.g. `sns`) directly: for the few calls a test needs from a service
    /// whose SDK crate it does not otherwise compile. moto does not check signatures; the
    /// credential scope in the `Authorization` header tells it which service is meant.
    /// Returns the HTTP status and the response body.
    pub fn query(&self, service: &str, params: &[(&str, &str)]) -> (u16, String) {
        let body = params
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/{service}/aws4_request, \
             SignedHeaders=host, Signature=0"
        );
        self.http(
            "POST",
            "/",
            &[
                (
                    "Content-Type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                ),
                ("Authorization", auth.as_str()),
            ],
            &body,
        )
    }

    /// One HTTP/1.0 request to the server; returns the status and the body.
    fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto_server");
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
        let mut request = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        s.write_all(request.as_bytes())
            .expect("send to moto_server");
        let mut response = String::new();
        s.read_to_string(&mut response)
            .expect("read from moto_server");
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

/// `application/x-www-form-urlencoded` encoding of one key or value.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_dir_all(&self.shim);
    }
}
