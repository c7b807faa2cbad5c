/// How many rows a list returns: 1–1000, default 100 (api.md, Conventions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

/// A `limit` outside 1–[`Limit::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be between 1 and {max}", max = Limit::MAX)]
pub struct LimitError;

impl Limit {
    /// The default page size when a client does not say.
    pub const DEFAULT: Self = Self(100);
    /// The largest page a client may ask for.
    pub const MAX: u32 = 1000;

    /// Parses a client-supplied limit; `None` means the default.
    ///
    /// # Errors
    /// [`LimitError`] when the value is 0 or above [`Limit::MAX`].
    pub fn new(value: Option<u32>) -> Result<Self, LimitError> {
        match value {
            None => Ok(Self::DEFAULT),
            Some(v) if (1..=Self::MAX).contains(&v) => Ok(Self(v)),
            Some(_) => Err(LimitError),
        }
    }

    /// The limit as a row count.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_bounds() {
        assert_eq!(Limit::new(None), Ok(Limit::DEFAULT));
        assert_eq!(Limit::new(Some(1)).map(Limit::get), Ok(1));
        assert_eq!(Limit::new(Some(1000)).map(Limit::get), Ok(1000));
        assert_eq!(Limit::new(Some(0)), Err(LimitError));
        assert_eq!(Limit::new(Some(1001)), Err(LimitError));
    }
}
