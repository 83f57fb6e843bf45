//! `verify`: rebuild the views from the sources of truth into a scratch store and compare each
//! view with the store's by content hash.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::{Engine, Options, PipelineError, Step};
use crate::sqlite::SqliteStore;
use crate::store::Store;

/// One view's comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ViewCheck {
    /// The view.
    pub view: String,
    /// Rows and content hash in the store (`rows:sha256`).
    pub stored: String,
    /// Rows and content hash rebuilt from the sources of truth.
    pub rebuilt: String,
    /// Whether they are equal.
    pub equal: bool,
}

/// Rebuilds `store`'s views into an in-memory scratch store and compares them; `progress`
/// hears how the rebuild goes. Any store: the content hashes do not depend on the store.
pub fn verify<S: Store>(
    store: &mut S,
    options: Options,
    progress: &mut dyn FnMut(Step),
) -> Result<Vec<ViewCheck>, PipelineError> {
    let mut scratch = SqliteStore::memory()?;
    crate::store::copy_sources(store, &mut scratch)?;
    let mut engine = Engine::open(scratch, options)?;
    engine.rebuild(progress)?;
    let rebuilt = engine.store().view_hashes()?;
    Ok(compare(store.view_hashes()?, &rebuilt))
}

/// Each stored view's hash beside its rebuilt one.
pub fn compare(
    stored: BTreeMap<String, String>,
    rebuilt: &BTreeMap<String, String>,
) -> Vec<ViewCheck> {
    stored
        .into_iter()
        .map(|(view, stored)| {
            let rebuilt = rebuilt.get(&view).cloned().unwrap_or_default();
            ViewCheck {
                equal: stored == rebuilt,
                view,
                stored,
                rebuilt,
            }
        })
        .collect()
}
