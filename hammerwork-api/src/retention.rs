//! Keeping the database small and fast as finished work piles up: the
//! maintenance role that one worker at a time holds.

/// The role ([`Storage::try_lead`](crate::Storage::try_lead)) of the one
/// process at a time that maintains the database: it gives back the space
/// of finished rows ([`Storage::reclaim_space`](crate::Storage::reclaim_space)).
pub const MAINTENANCE_ROLE: &str = "maintenance";
