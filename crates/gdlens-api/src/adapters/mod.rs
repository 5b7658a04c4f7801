//! Thin adapter from the store crate to the API's port.

mod store;

pub use store::StoreAdapter;
