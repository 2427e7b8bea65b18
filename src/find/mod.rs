//! The finders: what is masked.

pub(crate) mod exact;
pub(crate) mod shapes;
