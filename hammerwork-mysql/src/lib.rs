//! MySQL 8 / MariaDB 10.6+ storage for Hammerwork.
//!
//! Not implemented yet: this crate reserves the name and the place in the
//! workspace. The `mysql` feature of the `hammerwork` crate will enable it.
