//! Holds no code: its tests are the user guides' examples (see `tests/`).
