//! The queue's SQL: enqueue, claim, heartbeat, complete, fail, recover,
//! list. See the parent module for the states and the fencing rule.

use super::*;

const JOB_COLUMNS: &str = "id, kind, status, priority, attempts, max_attempts, worker, dedup_key, series_key, \
                           series_version, last_error, payload, result, run_at, lease_until, created_at, \
                           started_at, finished_at";

/// Longest time between two recoveries of expired leases by one pool.
const RECOVERY_INTERVAL: Duration = Duration::from_secs(1);

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

macro_rules! job_from_row {
    ($row:expr) => {{
        use sqlx::Row;
        let row = $row;
        let status: String = row.try_get("status")?;
        let status = status
            .parse::<JobStatus>()
            .map_err(|error| sqlx::Error::ColumnDecode {
                index: "status".to_string(),
                source: Box::new(error),
            })?;
        Ok::<Job, sqlx::Error>(Job {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            status,
            priority: row.try_get("priority")?,
            attempts: row.try_get("attempts")?,
            max_attempts: row.try_get("max_attempts")?,
            worker: row.try_get("worker")?,
            dedup_key: row.try_get("dedup_key")?,
            series_key: row.try_get("series_key")?,
            series_version: row.try_get("series_version")?,
            last_error: row.try_get("last_error")?,
            payload: row.try_get::<Json<serde_json::Value>, _>("payload")?.0,
            result: row
                .try_get::<Option<Json<serde_json::Value>>, _>("result")?
                .map(|json| json.0),
            run_at: row.try_get("run_at")?,
            lease_until: row.try_get("lease_until")?,
            created_at: row.try_get("created_at")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
        })
    }};
}

impl Store {
    /// Adds a job unless an equivalent one is queued or running; queued
    /// jobs for older versions of the same series are superseded.
    pub async fn enqueue(&self, job: &NewJob) -> Result<Enqueued, StoreError> {
        let newer_sql = "SELECT id FROM jobs WHERE series_key = $1 AND series_version > $2 \
                         AND status IN ('queued', 'running') ORDER BY series_version DESC LIMIT 1";
        let supersede_sql = self.sql(
            "UPDATE jobs SET status = 'superseded', finished_at = {now}, last_error = $3 \
             WHERE series_key = $1 AND series_version < $2 AND status = 'queued'",
        );
        let insert_sql = self.sql(
            "INSERT INTO jobs (kind, payload, dedup_key, series_key, series_version, priority, status, attempts, \
             max_attempts, run_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, {now}, {now}) \
             ON CONFLICT DO NOTHING RETURNING id",
        );
        let existing_sql =
            "SELECT id FROM jobs WHERE dedup_key = $1 AND status IN ('queued', 'running')";
        let lock_sql = "SELECT pg_advisory_xact_lock(hashtext($1))";
        let postgres = self.backend() == BackendKind::Postgres;
        let begin = self.begin_statement();
        let version = job.series_version.map(i64::from);
        let what = || {
            format!(
                "enqueueing a {} job (dedup key {:?})",
                job.kind, job.dedup_key
            )
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.context(what)?;
            let mut superseded = 0;
            if let (Some(series_key), Some(version)) = (&job.series_key, version) {
                if postgres {
                    // Serialise enqueues of one series so two versions cannot both stay queued.
                    sqlx::query(lock_sql).bind(series_key).execute(&mut *tx).await.context(what)?;
                }
                let newer: Option<i64> = sqlx::query_scalar(newer_sql)
                    .bind(series_key)
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await
                    .context(what)?;
                if let Some(newer) = newer {
                    tx.commit().await.context(what)?;
                    return Ok(Enqueued::Obsolete { newer: JobId(newer) });
                }
                superseded = sqlx::query(&supersede_sql)
                    .bind(series_key)
                    .bind(version)
                    .bind(format!("superseded by version {version} of series {series_key}"))
                    .execute(&mut *tx)
                    .await
                    .context(what)?
                    .rows_affected();
            }
            let inserted: Option<i64> = sqlx::query_scalar(&insert_sql)
                .bind(&job.kind)
                .bind(Json(&job.payload))
                .bind(job.dedup_key.as_deref())
                .bind(job.series_key.as_deref())
                .bind(version)
                .bind(i64::from(job.priority))
                .bind(i64::from(job.max_attempts.max(1)))
                .fetch_optional(&mut *tx)
                .await
                .context(what)?;
            let outcome = match inserted {
                Some(id) => Enqueued::Added { id: JobId(id), superseded },
                None => {
                    let id: i64 = sqlx::query_scalar(existing_sql)
                        .bind(job.dedup_key.as_deref())
                        .fetch_one(&mut *tx)
                        .await
                        .context(what)?;
                    Enqueued::Existing { id: JobId(id) }
                }
            };
            tx.commit().await.context(what)?;
            Ok(outcome)
        })
    }

    /// Returns jobs whose lease expired to the queue, or to the dead
    /// letters when they are out of attempts, and marks the reviews those
    /// attempts left running (and any review whose own lease passed) as
    /// interrupted. A job whose expired attempt had already stored its
    /// review (finished, partial or compromised) is completed from that
    /// review instead. Returns how many jobs were handed back.
    pub async fn recover_expired_leases(&self) -> Result<u64, StoreError> {
        self.recover().await.map(|recovered| recovered.jobs)
    }

    /// Like [`Store::recover_expired_leases`], saying how many jobs were
    /// handed back and how many reviews marked interrupted.
    pub async fn recover(&self) -> Result<Recovered, StoreError> {
        let jobs_sql = self.sql(
            "UPDATE jobs SET \
               status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
               finished_at = CASE WHEN attempts >= max_attempts THEN {now} ELSE NULL END, \
               last_error = 'lease of worker ' || COALESCE(worker, '?') || ' expired during attempt ' \
                            || CAST(attempts AS TEXT), \
               lease_until = NULL, run_at = {now} \
             WHERE status = 'running' AND lease_until < {now}",
        );
        // An attempt that stored its review and died before marking the
        // job done did the job: complete it from that review rather than
        // review the series a second time.
        let stored_sql = self.sql(
            "SELECT j.id, j.attempts, COALESCE(j.worker, '?'), r.id, r.status FROM jobs j \
             JOIN reviews r ON r.job_id = j.id AND r.job_attempt = j.attempts \
             WHERE j.status = 'running' AND j.lease_until < {now} \
               AND r.status IN ('finished', 'partial', 'compromised') ORDER BY j.id, r.id",
        );
        let complete_sql = self.sql(
            "UPDATE jobs SET status = 'done', result = $3, finished_at = {now}, lease_until = NULL, last_error = NULL \
             WHERE id = $1 AND attempts = $2 AND status = 'running' AND lease_until < {now}",
        );
        let reviews_sql = self.job_sweep_sql(false);
        let begin = self.begin_statement();
        let what = || "recovering jobs with expired leases".to_string();
        let recovered = on_pool!(self, pool => {
            // One transaction: a job is never handed back while the review
            // its old attempt started still looks running.
            let mut tx = pool.begin_with(begin).await.context(what)?;
            let stored: Vec<(i64, i64, String, i64, String)> =
                sqlx::query_as(&stored_sql).fetch_all(&mut *tx).await.context(what)?;
            let mut completed = 0;
            for (job, attempt, worker, review, status) in stored {
                let result = serde_json::json!({
                    "review_id": review,
                    "status": status,
                    "completed_by": format!(
                        "lease recovery: worker {worker} stopped after storing review {review} of attempt {attempt}"
                    ),
                });
                completed += sqlx::query(&complete_sql)
                    .bind(job)
                    .bind(attempt)
                    .bind(Json(&result))
                    .execute(&mut *tx)
                    .await
                    .context(what)?
                    .rows_affected();
            }
            let jobs = sqlx::query(&jobs_sql).execute(&mut *tx).await.context(what)?.rows_affected();
            let mut reviews = 0;
            if jobs > 0 {
                reviews = sqlx::query(&reviews_sql).execute(&mut *tx).await.context(what)?.rows_affected();
            }
            tx.commit().await.context(what)?;
            Ok::<Recovered, StoreError>(Recovered { jobs, completed, reviews })
        })?;
        Ok(Recovered {
            reviews: recovered.reviews + self.interrupt_stale_reviews().await?,
            ..recovered
        })
    }

    /// Leases the most urgent eligible job to `worker` for `lease`; None
    /// when nothing is eligible. Expired leases are recovered first when
    /// nothing else is claimable, and at least every second otherwise.
    pub async fn claim(
        &self,
        worker: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedJob>, StoreError> {
        let recovered_now = if self.recovery_due() {
            self.recover_and_log().await?
        } else {
            false
        };
        match self.claim_once(worker, lease).await? {
            Some(job) => Ok(Some(job)),
            None if !recovered_now => {
                self.recover_and_log().await?;
                self.claim_once(worker, lease).await
            }
            None => Ok(None),
        }
    }

    fn recovery_due(&self) -> bool {
        let last = self.last_recovery.lock().map(|last| *last).unwrap_or(None);
        last.is_none_or(|at| at.elapsed() >= RECOVERY_INTERVAL)
    }

    async fn recover_and_log(&self) -> Result<bool, StoreError> {
        let recovered = self.recover().await?;
        if let Ok(mut last) = self.last_recovery.lock() {
            *last = Some(std::time::Instant::now());
        }
        if recovered.jobs > 0 {
            tracing::info!(
                recovered = recovered.jobs,
                "returned jobs with expired leases to the queue"
            );
        }
        if recovered.completed > 0 {
            tracing::info!(
                completed = recovered.completed,
                "completed jobs with expired leases from the reviews their workers had stored"
            );
        }
        Ok(true)
    }

    async fn claim_once(
        &self,
        worker: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedJob>, StoreError> {
        let lock = match self.backend() {
            BackendKind::Postgres => "FOR UPDATE SKIP LOCKED",
            BackendKind::Sqlite => "",
        };
        let sql = self.sql(&format!(
            "UPDATE jobs SET status = 'running', worker = $1, attempts = attempts + 1, \
               lease_until = {{now}} + $2, heartbeat_at = {{now}}, started_at = {{now}} \
             WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= {{now}} \
                         ORDER BY priority DESC, id LIMIT 1 {lock}) \
             RETURNING id, kind, payload, attempts, max_attempts"
        ));
        let what = || format!("claiming a job for worker {worker}");
        type Row = (i64, String, Json<serde_json::Value>, i64, i64);
        let row: Option<Row> = match &self.backend {
            // One statement is atomic on PostgreSQL; SKIP LOCKED keeps
            // concurrent claimers off each other's rows.
            crate::Backend::Postgres(pool) => sqlx::query_as(&sql)
                .bind(worker)
                .bind(millis(lease))
                .fetch_optional(pool)
                .await
                .context(what)?,
            // Take SQLite's write lock before reading, so the chosen row
            // cannot be claimed by another connection in between.
            crate::Backend::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.context(what)?;
                let row = sqlx::query_as(&sql)
                    .bind(worker)
                    .bind(millis(lease))
                    .fetch_optional(&mut *tx)
                    .await
                    .context(what)?;
                tx.commit().await.context(what)?;
                row
            }
        };
        Ok(
            row.map(|(id, kind, payload, attempt, max_attempts)| ClaimedJob {
                id: JobId(id),
                kind,
                payload: payload.0,
                attempt,
                max_attempts,
                worker: worker.to_string(),
            }),
        )
    }

    /// Extends a claimed job's lease. Fails when the lease was lost.
    pub async fn heartbeat(&self, job: &ClaimedJob, lease: Duration) -> Result<(), StoreError> {
        let sql = self.sql(
            "UPDATE jobs SET lease_until = {now} + $4, heartbeat_at = {now} \
             WHERE id = $1 AND worker = $2 AND attempts = $3 AND status = 'running'",
        );
        let changed = on_pool!(self, pool => sqlx::query(&sql)
            .bind(job.id.0)
            .bind(&job.worker)
            .bind(job.attempt)
            .bind(millis(lease))
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .context(|| format!("extending the lease of job {}", job.id.0))?;
        if changed == 0 {
            return Err(lease_lost(job, "extending the lease of"));
        }
        Ok(())
    }

    /// Marks a claimed job done with its result. Fails when the lease was
    /// lost, so a job is completed exactly once.
    pub async fn complete_job(
        &self,
        job: &ClaimedJob,
        result: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "UPDATE jobs SET status = 'done', result = $4, finished_at = {now}, lease_until = NULL, last_error = NULL \
             WHERE id = $1 AND worker = $2 AND attempts = $3 AND status = 'running'",
        );
        let changed = on_pool!(self, pool => sqlx::query(&sql)
            .bind(job.id.0)
            .bind(&job.worker)
            .bind(job.attempt)
            .bind(Json(result))
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .context(|| format!("completing job {}", job.id.0))?;
        if changed == 0 {
            return Err(lease_lost(job, "completing"));
        }
        Ok(())
    }

    /// Records a failed attempt: the job is queued again after the retry
    /// delay, or dead when `permanent` or out of attempts. Returns the new
    /// status.
    pub async fn fail_job(
        &self,
        job: &ClaimedJob,
        error: &str,
        permanent: bool,
        config: &QueueConfig,
    ) -> Result<JobStatus, StoreError> {
        let sql = self.sql(
            "UPDATE jobs SET \
               status = CASE WHEN $4 OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
               finished_at = CASE WHEN $4 OR attempts >= max_attempts THEN {now} ELSE NULL END, \
               run_at = {now} + $5, last_error = $6, lease_until = NULL \
             WHERE id = $1 AND worker = $2 AND attempts = $3 AND status = 'running' \
             RETURNING status",
        );
        let status: Option<String> = on_pool!(self, pool => sqlx::query_scalar(&sql)
            .bind(job.id.0)
            .bind(&job.worker)
            .bind(job.attempt)
            .bind(permanent)
            .bind(millis(config.retry_delay(job.attempt)))
            .bind(crate::text::stored_error(error))
            .fetch_optional(pool)
            .await)
        .context(|| format!("recording the failure of job {}", job.id.0))?;
        let status: JobStatus = match status {
            Some(status) => status.parse()?,
            None => return Err(lease_lost(job, "failing")),
        };
        // The failed attempt's review, if the handler left it running, is
        // interrupted now; the retry starts a new one.
        if let Err(error) = self.interrupt_reviews_of_job(job.id.0).await {
            tracing::warn!(job = job.id.0, %error, "the failed attempt's reviews stay running until their lease passes");
        }
        Ok(status)
    }

    /// One job by id.
    pub async fn job(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        let what = || format!("reading job {}", id.0);
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(id.0).fetch_optional(pool).await.context(what)?;
            row.map(|row| job_from_row!(row)).transpose().context(what)
        })
    }

    /// Jobs, newest first, optionally of one status; at most `limit`.
    pub async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let sql = match status {
            Some(_) => format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE status = $2 ORDER BY id DESC LIMIT $1"
            ),
            None => format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC LIMIT $1"),
        };
        let what = || format!("listing jobs (status {status:?})");
        on_pool!(self, pool => {
            let mut query = sqlx::query(&sql).bind(i64::from(limit));
            if let Some(status) = status {
                query = query.bind(status.as_str());
            }
            let rows = query.fetch_all(pool).await.context(what)?;
            rows.into_iter().map(|row| job_from_row!(row)).collect::<Result<Vec<_>, _>>().context(what)
        })
    }

    /// Number of jobs in each status.
    pub async fn job_counts(&self) -> Result<Vec<(JobStatus, i64)>, StoreError> {
        let sql = "SELECT status, COUNT(*) FROM jobs GROUP BY status";
        let rows: Vec<(String, i64)> =
            on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await)
                .context(|| "counting jobs by status".to_string())?;
        JobStatus::ALL
            .into_iter()
            .map(|status| {
                let count = rows
                    .iter()
                    .find(|(name, _)| name == status.as_str())
                    .map_or(0, |(_, count)| *count);
                Ok((status, count))
            })
            .collect()
    }

    /// Jobs still to do: queued or running.
    pub async fn pending_jobs(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')";
        on_pool!(self, pool => sqlx::query_scalar(sql).fetch_one(pool).await)
            .context(|| "counting pending jobs".to_string())
    }
}
