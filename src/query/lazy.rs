//! A value found the first time it is asked for, then kept: the per-commit
//! caches of the read side ([`super::warm`]) are made of it.

use std::sync::OnceLock;

/// A value found the first time it is asked for, then kept.
pub(crate) struct Lazy<T>(OnceLock<T>);

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Lazy(OnceLock::new())
    }
}

impl<T> std::fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Lazy(found)"
        } else {
            "Lazy(not yet)"
        })
    }
}

impl<T> Lazy<T> {
    /// A value found already.
    pub(crate) fn found(value: T) -> Lazy<T> {
        Lazy(OnceLock::from(value))
    }

    /// The value, if it was found.
    pub(crate) fn get(&self) -> Option<&T> {
        self.0.get()
    }

    /// The value, found by `find` the first time (two threads asking at once
    /// may both find it; one result is kept). An error is returned, not kept.
    pub(crate) fn get_or_find<E>(&self, find: impl FnOnce() -> Result<T, E>) -> Result<&T, E> {
        if let Some(value) = self.0.get() {
            return Ok(value);
        }
        let value = find()?;
        Ok(self.0.get_or_init(|| value))
    }
}
