//! Rewards (service.md, "Rewards"): a result that is `completed` earns the challenge's rewards
//! without a tier; a result at a tier earns that tier's rewards and those of every lower tier
//! (their thresholds were reached on the way, whatever the batching that skipped them). A team
//! result earns them for the team.
//!
//! The rewards of a batch's result rows go into the same [`Batch`], so the store issues them in
//! the transaction of the rows that earned them. The ledger is append-only: the store inserts a
//! reward only if (challenge, holder, name) was never issued, so retries, replays, restarts and
//! rebuilds never issue one twice, and nothing takes one back. Its `at` is the `as_of` of the
//! first committed result that earned it, which depends on how the input was batched: the
//! ledger is a record of what was observed, not a derived view (rebuild keeps it, verify does
//! not compare it).

use std::collections::HashMap;

use crate::ondemand::Active;
use crate::store::{Batch, ResultRow, RewardRow};

/// The rewards `row` earns for its holder (`team`: a team row).
pub fn earned(challenge: &Active, row: &ResultRow, team: bool) -> Vec<RewardRow> {
    let Some(reached) = &row.reached else {
        return Vec::new();
    };
    let tiers: &[String] = reached
        .tier
        .as_ref()
        .and_then(|t| challenge.tiers.iter().position(|n| n == t))
        .and_then(|i| challenge.tiers.get(i..))
        .unwrap_or_default();
    challenge
        .rewards
        .iter()
        .filter(|r| match &r.tier {
            None => reached.completed,
            Some(t) => tiers.contains(&t.node),
        })
        .map(|r| RewardRow {
            challenge: row.challenge.clone(),
            holder: row.user.clone(),
            team,
            name: r.name.clone(),
            points: r.points,
            at: reached.as_of.clone(),
        })
        .collect()
}

/// Adds to `batch` the rewards its result and team result rows earn, owing a delivery to each
/// of `webhooks` (the store issues only those never issued before).
pub fn issue(challenges: &[Active], batch: &mut Batch, webhooks: &[String]) {
    let with_rewards: HashMap<&str, &Active> = challenges
        .iter()
        .filter(|c| !c.rewards.is_empty())
        .map(|c| (c.plan.id(), c))
        .collect();
    if with_rewards.is_empty() {
        return;
    }
    let mut rewards = Vec::new();
    for (rows, team) in [(&batch.results, false), (&batch.team_results, true)] {
        for row in rows.iter().filter(|r| r.reached.is_some()) {
            if let Some(c) = with_rewards.get(row.challenge.as_str()) {
                rewards.extend(earned(c, row, team));
            }
        }
    }
    if !rewards.is_empty() && batch.webhooks.is_empty() {
        batch.webhooks = webhooks.to_vec();
    }
    batch.rewards.extend(rewards);
}
