//! Running many analyzer processes under one budget: at most `jobs` at a
//! time, none started after the wall-clock deadline or once the CPU time
//! spent reaches the CPU budget, each killed at its own limit or at the
//! deadline. Jobs are taken in the order given (most relevant first), so
//! what the budget leaves out is the least relevant.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::process::{self, Ended, Invocation, Outcome};

/// Limits of one analyzer run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Processes at once.
    pub jobs: usize,
    /// No job starts after this much wall time, and running ones are
    /// stopped when it is spent.
    pub wall: Duration,
    /// No job starts once the finished ones used this much CPU time.
    pub cpu: Duration,
    /// The most one job may take.
    pub job_timeout: Duration,
}

/// What became of one job.
#[derive(Clone, Debug)]
pub enum JobResult {
    /// It ran to the end (successfully or not).
    Finished(Outcome),
    /// It ran past its own limit and was killed.
    TimedOut(Outcome),
    /// It was still running when the budget ran out and was stopped.
    StoppedAtDeadline(Outcome),
    /// The budget was spent before it could start.
    NotStarted,
    /// The program could not be started.
    SpawnFailed(String),
}

impl JobResult {
    pub fn cpu(&self) -> Duration {
        match self {
            JobResult::Finished(outcome)
            | JobResult::TimedOut(outcome)
            | JobResult::StoppedAtDeadline(outcome) => outcome.cpu,
            JobResult::NotStarted | JobResult::SpawnFailed(_) => Duration::ZERO,
        }
    }
}

struct Shared {
    next: usize,
    cpu_spent: Duration,
    results: Vec<Option<JobResult>>,
}

/// Run `invocations` (their own timeouts are replaced by the budget's)
/// and return one result per invocation, in order.
pub async fn run_all(invocations: &[Invocation], budget: Budget) -> Vec<JobResult> {
    let started = Instant::now();
    let deadline = started + budget.wall;
    let shared = Mutex::new(Shared {
        next: 0,
        cpu_spent: Duration::ZERO,
        results: vec![None; invocations.len()],
    });
    let lock = || {
        shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    let worker = || async {
        loop {
            let (index, timeout, clipped) = {
                let mut state = lock();
                let now = Instant::now();
                if state.next >= invocations.len()
                    || now >= deadline
                    || state.cpu_spent >= budget.cpu
                {
                    return;
                }
                let index = state.next;
                state.next += 1;
                let remaining = deadline - now;
                let clipped = remaining < budget.job_timeout;
                (index, remaining.min(budget.job_timeout), clipped)
            };
            let mut invocation = invocations[index].clone();
            invocation.timeout = timeout;
            let result = match process::run(&invocation).await {
                Ok(outcome) if outcome.ended == Ended::TimedOut && clipped => {
                    JobResult::StoppedAtDeadline(outcome)
                }
                Ok(outcome) if outcome.ended == Ended::TimedOut => JobResult::TimedOut(outcome),
                Ok(outcome) => JobResult::Finished(outcome),
                Err(error) => JobResult::SpawnFailed(error.to_string()),
            };
            let mut state = lock();
            state.cpu_spent += result.cpu();
            state.results[index] = Some(result);
        }
    };
    futures::future::join_all((0..budget.jobs.max(1)).map(|_| worker())).await;
    let state = shared
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    state
        .results
        .into_iter()
        .map(|result| result.unwrap_or(JobResult::NotStarted))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleep(seconds: &str) -> Invocation {
        Invocation {
            program: "sleep".into(),
            args: vec![seconds.into()],
            cwd: std::env::temp_dir(),
            env: vec![],
            timeout: Duration::from_secs(3600),
        }
    }

    #[tokio::test]
    async fn jobs_beyond_the_deadline_are_stopped_or_not_started() {
        let budget = Budget {
            jobs: 2,
            wall: Duration::from_millis(600),
            cpu: Duration::from_secs(60),
            job_timeout: Duration::from_secs(30),
        };
        let jobs = [sleep("0"), sleep("0"), sleep("30"), sleep("30"), sleep("0")];
        let results = run_all(&jobs, budget).await;
        let kinds: Vec<&str> = results
            .iter()
            .map(|result| match result {
                JobResult::Finished(_) => "finished",
                JobResult::TimedOut(_) => "timed out",
                JobResult::StoppedAtDeadline(_) => "stopped",
                JobResult::NotStarted => "not started",
                JobResult::SpawnFailed(_) => "spawn failed",
            })
            .collect();
        assert_eq!(
            kinds,
            vec!["finished", "finished", "stopped", "stopped", "not started"]
        );
    }

    #[tokio::test]
    async fn a_job_past_its_own_limit_times_out() {
        let budget = Budget {
            jobs: 1,
            wall: Duration::from_secs(60),
            cpu: Duration::from_secs(60),
            job_timeout: Duration::from_millis(200),
        };
        let results = run_all(&[sleep("30"), sleep("0")], budget).await;
        assert!(matches!(results[0], JobResult::TimedOut(_)));
        assert!(matches!(results[1], JobResult::Finished(_)));
    }
}
