//! Routing: a consistent hash of the user id picks one of N partitions.
//!
//! The user id is hashed with FNV-1a (64 bits, stable across platforms and releases), then
//! Lamping and Veach's jump consistent hash maps it to a partition: going from N to N + 1
//! partitions moves only 1/(N + 1) of the users, and the same id always lands in the same
//! partition for the same N. Every event of a user goes to one partition, which one worker
//! processes in order; partitions run in parallel.

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Jump consistent hash: a bucket in `0..buckets` for `key` (0 when `buckets` is 0).
pub fn jump_hash(mut key: u64, buckets: u32) -> u32 {
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        let shifted = ((key >> 33) + 1) as f64;
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / shifted)) as i64;
    }
    u32::try_from(b.max(0)).unwrap_or(0)
}

/// The partition of `user` among `partitions`.
pub fn partition_of(user: &str, partitions: u32) -> u32 {
    jump_hash(fnv1a64(user.as_bytes()), partitions.max(1))
}

/// The default number of partitions: the machine's core count.
pub fn default_partitions() -> u32 {
    std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get()).unwrap_or(1))
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_in_range() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        for n in 1..10 {
            for u in 0..200 {
                let p = partition_of(&format!("u-{u}"), n);
                assert!(p < n);
                assert_eq!(p, partition_of(&format!("u-{u}"), n));
            }
        }
        assert_eq!(partition_of("u-1", 0), 0);
    }

    #[test]
    fn growing_moves_few_users() {
        let moved = (0..10_000)
            .filter(|u| {
                let id = format!("u-{u}");
                partition_of(&id, 4) != partition_of(&id, 5)
            })
            .count();
        // About 1/5 move; a modulo hash would move about 4/5.
        assert!((1_500..2_500).contains(&moved), "{moved}");
    }
}
