//! Running one analyzer process: arguments as a list (never a shell), a
//! scratch working directory, a wall-clock limit after which the process is
//! killed, and its CPU time read from /proc before it is reaped.
//!
//! Nothing here decides what to run; callers pass the program and files.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// One process to run.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// Variables set for the process (others are inherited).
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
}

/// How a process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this status code (`None`: killed by a signal).
    Exited(Option<i32>),
    /// It ran past its limit and was killed.
    TimedOut,
}

/// What a process printed and how it ended.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub ended: Ended,
    pub stdout: String,
    pub stderr: String,
    pub wall: Duration,
    /// User plus system time of the process and the children it waited
    /// for; zero when /proc could not be read.
    pub cpu: Duration,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.ended == Ended::Exited(Some(0))
    }

    /// The first non-empty line of stderr (else stdout), for a report.
    pub fn first_error_line(&self) -> String {
        self.stderr
            .lines()
            .chain(self.stdout.lines())
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or("no output")
            .chars()
            .take(200)
            .collect()
    }
}

/// Why a process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("{program} is not installed (not found on PATH)")]
    NotFound { program: String },
    #[error("starting {program} in {cwd}: {source}")]
    Io {
        program: String,
        cwd: String,
        #[source]
        source: std::io::Error,
    },
}

/// Run `invocation` to completion or until its limit.
pub async fn run(invocation: &Invocation) -> Result<Outcome, SpawnError> {
    let started = Instant::now();
    let mut command = Command::new(&invocation.program);
    command
        .args(&invocation.args)
        .current_dir(&invocation.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in &invocation.env {
        command.env(name, value);
    }
    let program = invocation.program.display().to_string();
    let mut child = command.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            SpawnError::NotFound {
                program: program.clone(),
            }
        } else {
            SpawnError::Io {
                program: program.clone(),
                cwd: invocation.cwd.display().to_string(),
                source,
            }
        }
    })?;
    let pid = child.id();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let read_all = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let read_out = async {
            if let Some(pipe) = stdout.as_mut() {
                let _ = pipe.read_to_end(&mut out).await;
            }
        };
        let read_err = async {
            if let Some(pipe) = stderr.as_mut() {
                let _ = pipe.read_to_end(&mut err).await;
            }
        };
        tokio::join!(read_out, read_err);
        (out, err)
    };
    match tokio::time::timeout(invocation.timeout, read_all).await {
        Ok((out, err)) => {
            // The pipes closed: the process is exiting. Read its CPU time
            // while it is a zombie, before `wait` reaps it.
            let cpu = match pid {
                Some(pid) => zombie_cpu(pid).await,
                None => Duration::ZERO,
            };
            let status = child.wait().await.map_err(|source| SpawnError::Io {
                program: program.clone(),
                cwd: invocation.cwd.display().to_string(),
                source,
            })?;
            Ok(Outcome {
                ended: Ended::Exited(status.code()),
                stdout: String::from_utf8_lossy(&out).into_owned(),
                stderr: String::from_utf8_lossy(&err).into_owned(),
                wall: started.elapsed(),
                cpu,
            })
        }
        Err(_) => {
            let cpu = pid.map_or(Duration::ZERO, |pid| proc_cpu(pid).unwrap_or_default());
            let _ = child.start_kill();
            let _ = child.wait().await;
            Ok(Outcome {
                ended: Ended::TimedOut,
                stdout: String::new(),
                stderr: String::new(),
                wall: started.elapsed(),
                cpu,
            })
        }
    }
}

/// CPU time of `pid` once it has exited (state `Z`), polled briefly; the
/// last reading if it is still running after that.
async fn zombie_cpu(pid: u32) -> Duration {
    let mut last = Duration::ZERO;
    for _ in 0..100 {
        match proc_stat(pid) {
            Some((state, cpu)) => {
                last = cpu;
                if state == 'Z' || state == 'X' {
                    return cpu;
                }
            }
            None => return last,
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    last
}

fn proc_cpu(pid: u32) -> Option<Duration> {
    proc_stat(pid).map(|(_, cpu)| cpu)
}

/// State and utime+stime+cutime+cstime of `pid` from /proc/PID/stat.
fn proc_stat(pid: u32) -> Option<(char, Duration)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// `/proc/PID/stat`: the command name is in parentheses and may contain
/// spaces, so fields are counted after the last `)`. Times are in clock
/// ticks, which Linux reports at 100 per second to user space.
fn parse_stat(text: &str) -> Option<(char, Duration)> {
    const TICKS_PER_SECOND: u64 = 100;
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3 (index 0 here), utime 14 (index 11),
    // stime 15, cutime 16, cstime 17.
    let state = fields.first()?.chars().next()?;
    let ticks: u64 = fields
        .get(11..15)?
        .iter()
        .map(|field| field.parse::<u64>().unwrap_or(0))
        .sum();
    Some((
        state,
        Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND),
    ))
}

/// Is `program` runnable (an absolute path that exists, or a name on
/// PATH)? Checked before any scratch work so a missing tool is reported
/// as skipped.
pub fn find_program(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "4242 (spatch (x) y) Z 1 2 3 4 5 6 7 8 9 10 150 50 7 3 20 0 1 0";
        assert_eq!(parse_stat(line), Some(('Z', Duration::from_millis(2100))));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[tokio::test]
    async fn a_process_runs_with_its_output_and_cpu_time() {
        let invocation = Invocation {
            program: "sh".into(),
            args: vec![
                "-c".into(),
                "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo out; echo err >&2; exit 3"
                    .into(),
            ],
            cwd: std::env::temp_dir(),
            env: vec![],
            timeout: Duration::from_secs(60),
        };
        let outcome = run(&invocation).await.expect("sh runs");
        assert_eq!(outcome.ended, Ended::Exited(Some(3)));
        assert_eq!(outcome.stdout, "out\n");
        assert_eq!(outcome.first_error_line(), "err");
        assert!(
            outcome.cpu > Duration::ZERO,
            "busy loop used no CPU: {outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_process_past_its_limit_is_killed() {
        let invocation = Invocation {
            program: "sleep".into(),
            args: vec!["30".into()],
            cwd: std::env::temp_dir(),
            env: vec![],
            timeout: Duration::from_millis(200),
        };
        let outcome = run(&invocation).await.expect("sleep runs");
        assert_eq!(outcome.ended, Ended::TimedOut);
        assert!(outcome.wall < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_missing_program_is_named() {
        let invocation = Invocation {
            program: "sashiko-no-such-analyzer".into(),
            args: vec![],
            cwd: std::env::temp_dir(),
            env: vec![],
            timeout: Duration::from_secs(1),
        };
        let error = run(&invocation).await.expect_err("not installed");
        assert!(matches!(error, SpawnError::NotFound { .. }), "{error}");
        assert_eq!(find_program(Path::new("sashiko-no-such-analyzer")), None);
        assert!(find_program(Path::new("sh")).is_some());
    }
}
