//! How each written resource appears in the change log: the representation clients get,
//! told to the adapter once at start-up (the app registers its REST bodies), so no domain
//! signature carries a renderer.

use ayubi_kernel::StoreError;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

type Render<T> = Arc<dyn Fn(&T) -> serde_json::Value + Send + Sync>;

/// A representation per resource type.
#[derive(Default)]
pub struct Representations {
    by_type: HashMap<TypeId, (&'static str, Box<dyn Any + Send + Sync>)>,
}

impl std::fmt::Debug for Representations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.by_type.values().map(|(name, _)| name))
            .finish()
    }
}

impl Representations {
    /// None registered.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes of `T` are recorded as `render(&t)`.
    #[must_use]
    pub fn with<T: 'static>(
        mut self,
        render: impl Fn(&T) -> serde_json::Value + Send + Sync + 'static,
    ) -> Self {
        let render: Render<T> = Arc::new(render);
        self.by_type.insert(
            TypeId::of::<T>(),
            (std::any::type_name::<T>(), Box::new(render)),
        );
        self
    }

    /// `t` as clients see it.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when no representation of `T` was registered (a wiring
    /// mistake: the write is refused rather than logged without its data).
    pub fn render<T: 'static>(&self, t: &T) -> Result<serde_json::Value, StoreError> {
        self.by_type
            .get(&TypeId::of::<T>())
            .and_then(|(_, r)| r.downcast_ref::<Render<T>>())
            .map(|r| r(t))
            .ok_or_else(|| {
                StoreError::Unavailable(
                    format!(
                        "no change-log representation of {} was registered",
                        std::any::type_name::<T>()
                    )
                    .into(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Water(i32);

    #[test]
    fn a_registered_type_renders_and_an_unknown_one_is_refused() {
        let r = Representations::new().with(|w: &Water| serde_json::json!({ "ml": w.0 }));
        assert_eq!(
            r.render(&Water(250)).unwrap(),
            serde_json::json!({"ml": 250})
        );
        let err = r.render(&7_u8).unwrap_err();
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(cause.contains("u8"), "{cause}");
    }
}
