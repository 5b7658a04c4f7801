//! Thin adapters from the neighbour crates to the API's ports.

mod groups;
mod store;

pub use groups::CorrelatorAdapter;
pub use store::StoreAdapter;
