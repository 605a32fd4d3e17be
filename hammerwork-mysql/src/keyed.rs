//! Statements over jobs named by key (`id IN (?, ...)`), one placeholder per
//! key. MariaDB reads `JSON_TABLE` rows, and updates through a join with
//! them, several times slower than it binds parameters (see
//! `queries/settle_completed.sql`). A list is padded to a power of two by
//! repeating its last key, which changes nothing an `IN` matches, so a
//! statement has at most 11 forms, each prepared once per connection.
//! The list is the statement's last parameter.
//!
//! Each such statement names `FORCE INDEX (PRIMARY)`. InnoDB appends the
//! primary key to every secondary index, and MySQL and MariaDB plan with
//! those extended keys: without the hint the range optimizer builds the
//! list's ranges once per index that ends with `id` (every secondary index
//! of the jobs table), which on MariaDB took 3.6-3.8 ms per 1,024 keys when
//! the table had seven, against 1.3-1.4 ms with it, before reading a row.

use std::sync::OnceLock;

use hammerwork_api::JobId;
use sqlx::mysql::MySqlArguments;
use sqlx::query::Query;
use sqlx::MySql;

/// Keys in one statement, at most.
pub(crate) const MAX_KEYS: usize = 1024;

/// A statement whose `/* ids */` marker, after every other parameter,
/// stands for a list of keys.
pub(crate) struct Keyed {
    template: &'static str,
    forms: OnceLock<Vec<String>>,
}

impl Keyed {
    /// The statement `template`.
    pub(crate) const fn new(template: &'static str) -> Self {
        Keyed {
            template,
            forms: OnceLock::new(),
        }
    }

    /// The form of the statement for `n` keys, as [`padded`] pads them.
    fn sql(&self, n: usize) -> &str {
        let forms = self.forms.get_or_init(|| {
            (0..=MAX_KEYS.ilog2())
                .map(|k| {
                    let n = 1 << k;
                    self.template.replace("/* ids */", &vec!["?"; n].join(", "))
                })
                .collect()
        });
        &forms[padded_len(n).ilog2() as usize]
    }

    /// The statements over `ids`, one per chunk as [`padded`] cuts them,
    /// each with `head` binding the parameters before the list.
    pub(crate) fn over<'q>(
        &'q self,
        ids: &[JobId],
        head: impl Fn(Query<'q, MySql, MySqlArguments>) -> Query<'q, MySql, MySqlArguments>,
    ) -> Vec<Query<'q, MySql, MySqlArguments>> {
        padded(ids)
            .into_iter()
            .map(|chunk| {
                let query = head(sqlx::query(self.sql(chunk.len())));
                chunk.into_iter().fold(query, |query, id| query.bind(id.0))
            })
            .collect()
    }
}

/// The length [`padded`] gives a chunk of `n` items.
fn padded_len(n: usize) -> usize {
    n.clamp(1, MAX_KEYS).next_power_of_two()
}

/// `items` in chunks of at most [`MAX_KEYS`], each padded to a power of two
/// by repeating its last item.
fn padded<T>(items: &[T]) -> Vec<Vec<&T>> {
    items
        .chunks(MAX_KEYS)
        .map(|chunk| {
            let last = &chunk[chunk.len() - 1];
            let mut padded: Vec<&T> = chunk.iter().collect();
            padded.resize(padded_len(chunk.len()), last);
            padded
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_padded_to_a_power_of_two_with_their_last_key() {
        let items: Vec<usize> = (0..1100).collect();
        let chunks = padded(&items);
        let lens: Vec<usize> = chunks.iter().map(Vec::len).collect();
        assert_eq!(lens, [1024, 128]);
        assert_eq!(*chunks[1][75], 1099);
        assert_eq!(*chunks[1][127], 1099);
        assert_eq!(padded(&[7]).concat(), [&7]);
        assert_eq!(padded(&[1, 2, 3]).concat(), [&1, &2, &3, &3]);
        assert!(padded::<u8>(&[]).is_empty());

        let statement = Keyed::new("b = ? AND a IN (/* ids */)");
        assert_eq!(statement.sql(3), "b = ? AND a IN (?, ?, ?, ?)");
        assert_eq!(statement.sql(1), "b = ? AND a IN (?)");
        assert_eq!(statement.sql(1024).matches('?').count(), 1024 + 1);
    }
}
