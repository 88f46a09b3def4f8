//! Before mail input is stored or queued: use the key its series version is
//! already stored under (by `sashiko ingest`, serve's ingest loops or the
//! bot), so a review lands on the ingested series row instead of a second
//! one. See `sashiko_ingest::series_key` for the key itself.
//!
//! Only reads the store; git input (keyed by its commits) is left alone.

use sashiko_store::Store;

use crate::error::{Context, ErrorKind, Result};
use crate::inputs::LoadedSeries;

/// Replaces the key of every mailed series in `loaded` by the stored one,
/// when its version is stored already.
pub async fn adopt_stored_series_keys(store: &Store, loaded: &mut [LoadedSeries]) -> Result<()> {
    for series in loaded.iter_mut() {
        if series.series.patches.iter().any(|p| p.commit_id.is_some()) {
            continue;
        }
        let first_patch = series
            .series
            .patches
            .first()
            .and_then(|patch| patch.message_id.as_deref());
        series.series_key = sashiko_ingest::series_key::resolve_series_key(
            store,
            &series.series_key,
            series.series.version,
            first_patch,
        )
        .await
        .context(ErrorKind::Store, || {
            format!("looking up the stored series of {}", series.source)
        })?;
    }
    Ok(())
}
